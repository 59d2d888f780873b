import { afterAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { buildHarness, type BuildRun } from './harness.ts';
import { FIXTURE_IMAGES, NODE_NPM_IMAGE, type Tree } from './sources.ts';

const docker = dockerClient();
const images = { ...FIXTURE_IMAGES, node: NODE_NPM_IMAGE };
const APP = join(import.meta.dir, '../fixtures/npm-app');

/** test/fixtures/npm-app (an Express app with a lockfile) with a VERSION file and any file replaced. */
function npmApp(version: string, replace: Record<string, string> = {}): Tree {
  const read = (name: string) => readFileSync(join(APP, name), 'utf8');
  return {
    'package.json': read('package.json'),
    'package-lock.json': read('package-lock.json'),
    'server.js': read('server.js'),
    VERSION: version,
    ...replace,
  };
}

/** The instructions of the steps the classic builder took from its cache. */
function cachedSteps(run: BuildRun): string[] {
  const out: string[] = [];
  run.lines.forEach((line, i) => {
    const step = /^Step \d+\/\d+ : (.*)$/.exec(line);
    if (step && run.lines.slice(i + 1, i + 3).includes(' ---> Using cache')) out.push(step[1]!);
  });
  return out;
}

async function layersOf(run: BuildRun): Promise<string[]> {
  expect(run.error).toBeUndefined();
  return (await docker.getImage(run.result!.imageId).inspect()).RootFS.Layers ?? [];
}

describe.skipIf(!(await requireDocker()))('the layer cache of generated Node builds', () => {
  const harness = buildHarness(docker);
  afterAll(() => harness.cleanup());
  // One cold build shared by the tests; its package.json is unique, so nothing is cached before it.
  const unique = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const withUnique = (tree: Tree) => {
    const pkg = JSON.parse(tree['package.json'] as string) as Record<string, unknown>;
    return { ...tree, 'package.json': JSON.stringify({ ...pkg, description: `layer cache test ${unique}` }, null, 2) };
  };
  let cold: BuildRun;

  test('a cold build installs the dependencies with npm ci, offline, and the app runs on them', async () => {
    cold = await harness.build(withUnique(npmApp('v1')), { images });
    expect(cold.error).toBeUndefined();
    expect(cachedSteps(cold)).not.toContain('RUN npm ci --omit=dev');
    expect(cold.lines.join('\n')).toMatch(/added \d+ packages/);
    const { url, container } = await harness.serve(cold.result!.imageId, 8080);
    expect(await (await fetch(url)).text()).toBe('v1 express 4.21.2\n');
    await container.remove({ force: true });
    console.log(`cold build ${cold.result!.durationMs} ms`);
  }, 120_000);

  test('a redeploy that changes only code reuses the installed dependencies, even with new mtimes', async () => {
    // A zip carries other mtimes than the first upload's tar.gz: the cache must not depend on them.
    const warm = await harness.build(withUnique(npmApp('v2')), { images, format: 'zip' });
    expect(warm.error).toBeUndefined();
    // The image's settings and the labels, the same for every build of the project, come after the
    // install and before the code: only the code's copy runs again.
    expect(cachedSteps(warm)).toEqual([
      'WORKDIR /app',
      'ENV NODE_ENV=production',
      'COPY package.json package-lock.json ./',
      'RUN npm ci --omit=dev',
      'ENV PATH=/app/node_modules/.bin:$PATH',
      'ENV PORT=8080',
      'EXPOSE 8080',
      'CMD ["sh","-c","exec node server.js"]',
      `LABEL ${Object.entries(harness.labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(' ')}`,
    ]);
    expect(warm.lines.join('\n')).not.toMatch(/added \d+ packages/);
    // The same image layers up to the installed node_modules; only the code's layer is new.
    const [before, after] = [await layersOf(cold), await layersOf(warm)];
    expect(after.length).toBe(before.length);
    expect(after.slice(0, -1)).toEqual(before.slice(0, -1));
    expect(after.at(-1)).not.toBe(before.at(-1));
    const { url, container } = await harness.serve(warm.result!.imageId, 8080);
    expect(await (await fetch(url)).text()).toBe('v2 express 4.21.2\n');
    await container.remove({ force: true });
    console.log(`code-only rebuild ${warm.result!.durationMs} ms after a cold build of ${cold.result!.durationMs} ms`);
  }, 120_000);

  test('a changed lockfile installs again instead of reusing the old dependencies', async () => {
    const lock = JSON.parse(npmApp('v3')['package-lock.json'] as string) as { packages: Record<string, unknown> };
    // Same packages, another lockfile: whatever changes in it, the install layer must be rebuilt.
    const relocked = `${JSON.stringify(lock, null, 1)}\n`;
    const run = await harness.build(withUnique(npmApp('v3', { 'package-lock.json': relocked })), { images });
    expect(run.error).toBeUndefined();
    expect(cachedSteps(run)).toEqual(['WORKDIR /app', 'ENV NODE_ENV=production']);
    expect(run.lines.join('\n')).toMatch(/added \d+ packages/);
    const [before, after] = [await layersOf(cold), await layersOf(run)];
    const manifests = before.length - 3; // base layers, then manifests, node_modules, code
    expect(after.slice(0, manifests)).toEqual(before.slice(0, manifests));
    expect(after[manifests]).not.toBe(before[manifests]);
  }, 120_000);
});
