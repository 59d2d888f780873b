import { afterAll, describe, expect, test } from 'bun:test';
import { withExec } from '../../src/build/manifests.ts';
import { planBuild } from '../../src/build/plan.ts';
import { DEFAULT_IMAGES } from '../../src/config.ts';
import { sourceFactory, type Tree } from './sources.ts';

const sources = sourceFactory();
afterAll(() => sources.cleanup());

async function dockerfileOf(tree: Tree): Promise<string> {
  const plan = planBuild(await sources.make(tree), { projectDockerfile: null, images: DEFAULT_IMAGES });
  return plan.generatedDockerfile!;
}

const withDeps = JSON.stringify({ dependencies: { express: '^5.0.0' }, scripts: { start: 'node server.js' } });

function nodeFile(install: string[]): string {
  return [
    'FROM node:22-alpine',
    'WORKDIR /app',
    'ENV NODE_ENV=production',
    ...install,
    'ENV PATH=/app/node_modules/.bin:$PATH',
    'ENV PORT=8080',
    'EXPOSE 8080',
    'CMD ["sh","-c","exec node server.js"]',
    'COPY . .',
    '',
  ].join('\n');
}

describe('generated Node Dockerfiles', () => {
  test('install with npm ci from package-lock.json', async () => {
    expect(await dockerfileOf({ 'package.json': withDeps, 'package-lock.json': '{}', 'yarn.lock': '' })).toBe(
      nodeFile(['COPY package.json package-lock.json ./', 'RUN npm ci --omit=dev']),
    );
  });

  test('install with yarn from yarn.lock', async () => {
    expect(await dockerfileOf({ 'package.json': withDeps, 'yarn.lock': '', 'pnpm-lock.yaml': '' })).toBe(
      nodeFile(['COPY package.json yarn.lock ./', 'RUN yarn install --frozen-lockfile --production']),
    );
  });

  test('install with pnpm from pnpm-lock.yaml', async () => {
    expect(await dockerfileOf({ 'package.json': withDeps, 'pnpm-lock.yaml': '' })).toBe(
      nodeFile(['COPY package.json pnpm-lock.yaml ./', 'RUN corepack enable && pnpm install --prod --frozen-lockfile']),
    );
  });

  test('install with npm install without a lockfile', async () => {
    expect(await dockerfileOf({ 'package.json': withDeps })).toBe(
      nodeFile(['COPY package.json ./', 'RUN npm install --omit=dev']),
    );
  });

  test('skip the install when there are no dependencies', async () => {
    const noDeps = JSON.stringify({ devDependencies: { typescript: '5' }, scripts: { start: 'node server.js' } });
    expect(await dockerfileOf({ 'package.json': noDeps, 'package-lock.json': '{}' })).toBe(nodeFile([]));
  });
});

describe('generated Dockerfiles of the other stacks', () => {
  test('static: busybox httpd on $PORT, stopped promptly by SIGTERM', async () => {
    expect(await dockerfileOf({ 'index.html': '' })).toBe(
      [
        'FROM busybox:1.37',
        'ENV PORT=8080',
        'EXPOSE 8080',
        `CMD ["sh","-c","trap 'exit 0' TERM INT; httpd -f -p \\"$PORT\\" -h /www & wait $!"]`,
        'COPY . /www',
        '',
      ].join('\n'),
    );
  });

  test('bun: frozen install from the lockfiles present', async () => {
    const pkg = JSON.stringify({ scripts: { start: 'bun run server.ts' } });
    expect(await dockerfileOf({ 'package.json': pkg, 'bun.lock': '{}', 'bun.lockb': 'x' })).toBe(
      [
        'FROM oven/bun:1-alpine',
        'WORKDIR /app',
        'ENV NODE_ENV=production',
        'COPY package.json bun.lock bun.lockb ./',
        'RUN bun install --frozen-lockfile --production',
        'ENV PORT=8080',
        'EXPOSE 8080',
        'CMD ["bun","run","start"]',
        'COPY . .',
        '',
      ].join('\n'),
    );
  });

  test('python: requirements.txt installed before the source is copied', async () => {
    expect(await dockerfileOf({ 'requirements.txt': 'flask\n', 'app.py': '' })).toBe(
      [
        'FROM python:3.13-slim',
        'WORKDIR /app',
        'ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1',
        'COPY requirements.txt ./',
        'RUN pip install --no-cache-dir -r requirements.txt',
        'ENV PORT=8080',
        'EXPOSE 8080',
        'CMD ["python","app.py"]',
        'COPY . .',
        '',
      ].join('\n'),
    );
  });

  test('python: pyproject.toml installs the project itself', async () => {
    const file = await dockerfileOf({ 'pyproject.toml': '', Procfile: 'web: uvicorn main:app --port $PORT' });
    expect(file).toContain('ENV PORT=8080\nEXPOSE 8080\nCMD ["sh","-c","exec uvicorn main:app --port $PORT"]\n');
    expect(file).toEndWith('COPY . .\nRUN pip install --no-cache-dir .\n');
  });

  test('go: a static binary built in one stage and shipped alone', async () => {
    expect(await dockerfileOf({ 'go.mod': 'module x\n', 'go.sum': '', 'main.go': '' })).toBe(
      [
        'FROM golang:1.24-alpine AS build',
        'WORKDIR /src',
        'COPY go.mod go.sum ./',
        'RUN go mod download',
        'COPY . .',
        'RUN CGO_ENABLED=0 go build -o /out/app .',
        '',
        'FROM alpine:3.21',
        'ENV PORT=8080',
        'EXPOSE 8080',
        'CMD ["/app"]',
        'COPY --from=build /out/app /app',
        '',
      ].join('\n'),
    );
  });
});

describe('start commands', () => {
  const cases: [string, string][] = [
    ['node server.js', 'exec node server.js'],
    ['  next start -p $PORT', 'exec next start -p $PORT'],
    [
      'NODE_OPTIONS="--max-old-space-size=512 --enable-source-maps" node dist/main.js',
      'NODE_OPTIONS="--max-old-space-size=512 --enable-source-maps" exec node dist/main.js',
    ],
    ['cd dist && node server.js', 'cd dist && node server.js'],
    ['node migrate.js; node server.js', 'node migrate.js; node server.js'],
    ['node server.js 2>&1 | tee log', 'node server.js 2>&1 | tee log'],
    ['cd dist', 'cd dist'],
    ['PORT=3000', 'PORT=3000'],
  ];
  for (const [line, expected] of cases) {
    test(`${JSON.stringify(line)} runs as ${JSON.stringify(expected)}`, () => {
      expect(withExec(line)).toBe(expected);
    });
  }
});
