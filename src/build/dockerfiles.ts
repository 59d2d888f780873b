/**
 * The generated Dockerfiles, one per stack. Each copies the dependency manifests and installs
 * before copying the rest of the source, so a deploy that only changes code reuses the cached
 * install layer. Every app listens on $PORT: 8080 by default, overridden by the runtime.
 *
 * The image's settings (ENV, EXPOSE, CMD) come before the source is copied in: each is a build
 * step of its own (a container created and committed by the classic builder), and there the engine
 * takes them from its cache, so a deploy that changes only code runs the source copy alone.
 *
 * Inputs are already checked (see manifests.ts); values are embedded with JSON.stringify in
 * exec-form instructions, never spliced into shell text.
 */

/** How a Node app is installed: which lockfile rules the install, or none. */
export type NodeInstaller = 'npm-ci' | 'yarn' | 'pnpm' | 'npm-install';

const PORT_DEFAULTS = ['ENV PORT=8080', 'EXPOSE 8080'];

const NODE_INSTALL: Record<NodeInstaller, { lockfile: string | null; run: string }> = {
  'npm-ci': { lockfile: 'package-lock.json', run: 'npm ci --omit=dev' },
  yarn: { lockfile: 'yarn.lock', run: 'yarn install --frozen-lockfile --production' },
  pnpm: { lockfile: 'pnpm-lock.yaml', run: 'corepack enable && pnpm install --prod --frozen-lockfile' },
  'npm-install': { lockfile: null, run: 'npm install --omit=dev' },
};

/** A static site served by busybox httpd from /www. */
export function staticDockerfile(image: string): string {
  // httpd as PID 1 ignores SIGTERM, so sh stays PID 1 and exits on TERM; the container still
  // lives exactly as long as the foreground httpd.
  const serve = `trap 'exit 0' TERM INT; httpd -f -p "$PORT" -h /www & wait $!`;
  return lines([`FROM ${image}`, ...PORT_DEFAULTS, cmd(['sh', '-c', serve]), 'COPY . /www']);
}

/** A Node app; `installer` null skips the install (a package.json without dependencies). */
export function nodeDockerfile(image: string, installer: NodeInstaller | null, command: string[]): string {
  const install =
    installer === null
      ? []
      : installSteps(['package.json', NODE_INSTALL[installer].lockfile], NODE_INSTALL[installer].run);
  return lines([
    `FROM ${image}`,
    'WORKDIR /app',
    'ENV NODE_ENV=production',
    ...install,
    // What npm would add for a start script, so `next start` and friends resolve without npm.
    'ENV PATH=/app/node_modules/.bin:$PATH',
    ...PORT_DEFAULTS,
    cmd(command),
    'COPY . .',
  ]);
}

/** A Bun app; `lockfiles` are those present (bun.lock and/or bun.lockb). */
export function bunDockerfile(image: string, lockfiles: string[], command: string[]): string {
  return lines([
    `FROM ${image}`,
    'WORKDIR /app',
    'ENV NODE_ENV=production',
    ...installSteps(['package.json', ...lockfiles], 'bun install --frozen-lockfile --production'),
    ...PORT_DEFAULTS,
    cmd(command),
    'COPY . .',
  ]);
}

/** A Python app installed from requirements.txt, or else from pyproject.toml. */
export function pythonDockerfile(
  image: string,
  manifest: 'requirements.txt' | 'pyproject.toml',
  command: string[],
): string {
  // `pip install .` builds the project itself, so it needs the whole source: no early layer.
  const early =
    manifest === 'requirements.txt'
      ? installSteps(['requirements.txt'], 'pip install --no-cache-dir -r requirements.txt')
      : [];
  const late = manifest === 'requirements.txt' ? [] : ['RUN pip install --no-cache-dir .'];
  return lines([
    `FROM ${image}`,
    'WORKDIR /app',
    'ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1',
    ...early,
    ...PORT_DEFAULTS,
    cmd(command),
    'COPY . .',
    ...late,
  ]);
}

/** A Go module compiled in `buildImage` and shipped alone on `runtimeImage`; `hasGoSum` adds go.sum to the early copy. */
export function goDockerfile(buildImage: string, runtimeImage: string, hasGoSum: boolean): string {
  return lines([
    `FROM ${buildImage} AS build`,
    'WORKDIR /src',
    ...installSteps(['go.mod', hasGoSum ? 'go.sum' : null], 'go mod download'),
    'COPY . .',
    'RUN CGO_ENABLED=0 go build -o /out/app .',
    '',
    `FROM ${runtimeImage}`,
    ...PORT_DEFAULTS,
    cmd(['/app']),
    'COPY --from=build /out/app /app',
  ]);
}

function installSteps(files: (string | null)[], run: string): string[] {
  const present = files.filter((f): f is string => f !== null);
  return [`COPY ${present.join(' ')} ./`, `RUN ${run}`];
}

function cmd(argv: string[]): string {
  return `CMD ${JSON.stringify(argv)}`;
}

function lines(instructions: string[]): string {
  return `${instructions.join('\n')}\n`;
}
