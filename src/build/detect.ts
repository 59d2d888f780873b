/**
 * Stack detection: which kind of app an upload holds, decided from the paths at its root.
 * Only root files count; a `package.json` deep in `docs/` says nothing about the app.
 */

/** The kinds of builds Slipway knows; `dockerfile` means the upload's own Dockerfile is used as is. */
export type Stack = 'dockerfile' | 'static' | 'node' | 'bun' | 'python' | 'go';

/** Manifests whose content planning reads; everything else is decided from paths alone. */
const CAPTURED = new Set([
  'Dockerfile',
  '.dockerignore',
  'package.json',
  'bun.lock',
  'requirements.txt',
  'pyproject.toml',
  'go.mod',
  'Procfile',
]);

/**
 * The files the archive normaliser keeps in memory for planning: the root Dockerfile,
 * .dockerignore, package.json, bun.lock, requirements.txt, pyproject.toml, go.mod, Procfile, and
 * the project's own Dockerfile path when it has one.
 */
export function filesToCapture(projectDockerfile: string | null): (path: string) => boolean {
  const own = projectDockerfile === null ? null : cleanProjectPath(projectDockerfile);
  return (path) => CAPTURED.has(path) || path === own;
}

/** The message of a planning failure when nothing was recognised; it lists what was looked for. */
export const NO_STACK_MESSAGE =
  'No Dockerfile and no recognised stack: looked for Dockerfile, index.html, package.json, ' +
  'bun.lock/bun.lockb, requirements.txt, pyproject.toml, go.mod';

/**
 * The stack of an upload without a Dockerfile, or null. The order matters where markers overlap:
 * a Bun app also has a package.json, and a site built by Node may also ship an index.html.
 */
export function detectStack(paths: ReadonlySet<string>): Exclude<Stack, 'dockerfile'> | null {
  if (paths.has('bun.lock') || paths.has('bun.lockb')) return 'bun';
  if (paths.has('package.json')) return 'node';
  if (paths.has('requirements.txt') || paths.has('pyproject.toml')) return 'python';
  if (paths.has('go.mod')) return 'go';
  if (paths.has('index.html')) return 'static';
  return null;
}

/**
 * The project's dockerfile setting as an archive path: the archive normaliser stores clean
 * relative paths (`docker/Dockerfile`), while users may write `./docker/Dockerfile`.
 */
export function cleanProjectPath(path: string): string {
  return path
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}
