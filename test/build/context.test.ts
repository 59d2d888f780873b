import { afterAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { bufferedContext, buildContext } from '../../src/build/context.ts';
import { planBuild } from '../../src/build/plan.ts';
import { FIXTURE_IMAGES, readTar, sourceFactory, type Tree } from './sources.ts';

const sources = sourceFactory();
afterAll(() => sources.cleanup());

async function contextOf(
  tree: Tree,
  projectDockerfile: string | null = null,
  labels?: Record<string, string>,
  stageLabels?: Record<string, string>,
): Promise<Map<string, string>> {
  const source = await sources.make(tree, projectDockerfile);
  const plan = planBuild(source, { projectDockerfile, images: FIXTURE_IMAGES });
  const streamed = await readTar(buildContext(source.tgz, plan, labels, stageLabels));
  // A small source's context is also made in memory: the same entries, in the same order.
  const buffered = await bufferedContext(source.tgz, plan, labels, stageLabels);
  expect(buffered).not.toBeNull();
  expect([...(await readTar(Readable.from([buffered!])))]).toEqual([...streamed]);
  return streamed;
}

describe('buildContext', () => {
  test("puts all labels as one LABEL instruction after the user's FROM and at its end, and before the source in a generated one", async () => {
    const labels = { 'slipway.managed': 'true', 'slipway.project': 'web' };
    const own = await contextOf({ Dockerfile: 'FROM scratch\nCOPY . /\n', 'a.txt': 'a' }, null, labels);
    expect(own.get('Dockerfile')).toBe(
      'FROM scratch\nLABEL slipway.managed="true" slipway.project="web"\nCOPY . /\n\nLABEL slipway.managed="true" slipway.project="web"\n',
    );
    const generated = await contextOf({ 'index.html': 'hi' }, null, labels);
    const dockerfile = [...generated.entries()].find(([k]) => k.endsWith('Dockerfile'))![1];
    const steps = dockerfile.split('\n');
    expect(steps[0]).toBe(`FROM ${FIXTURE_IMAGES.static}`);
    expect(steps.slice(-3)).toEqual(['LABEL slipway.managed="true" slipway.project="web"', 'COPY . /www', '']);
    expect((await contextOf({ Dockerfile: 'FROM scratch\n' })).get('Dockerfile')).toBe('FROM scratch\n');
  });

  test("gives a generated Dockerfile's build stages the stage labels and its last stage, before the source, the release labels", async () => {
    const release = { 'slipway.managed': 'true', 'slipway.agent': 'agt_1' };
    const stages = { ...release, 'slipway.project': 'web' };
    const go = await contextOf(
      { 'go.mod': 'module example.com/app\n\ngo 1.22\n', 'main.go': 'package main\n' },
      null,
      release,
      stages,
    );
    const lines = [...go.entries()].find(([k]) => k.endsWith('Dockerfile'))![1].split('\n');
    const stageLabel = 'LABEL slipway.managed="true" slipway.agent="agt_1" slipway.project="web"';
    const releaseLabel = 'LABEL slipway.managed="true" slipway.agent="agt_1"';
    expect(lines[0]).toStartWith('FROM ');
    expect(lines[1]).toBe(stageLabel);
    expect(lines.filter((l) => l.startsWith('LABEL '))).toEqual([stageLabel, releaseLabel]);
    expect(lines.slice(-3)).toEqual([releaseLabel, 'COPY --from=build /out/app /app', '']);
  });

  test('drops what the .dockerignore excludes, with Docker semantics', async () => {
    const ctx = await contextOf({
      Dockerfile: 'FROM scratch\n',
      '.dockerignore': [
        '# build output and secrets',
        'node_modules',
        '!node_modules/keep.js',
        '*.log',
        '!important.log',
        'secret/',
        'docs/**/*.md',
        '!docs/keep/README.md',
        'readme.md',
      ].join('\n'),
      'server.js': 'listen()',
      'node_modules/dep/index.js': 'dep',
      'node_modules/keep.js': 'kept',
      'debug.log': 'x',
      'important.log': 'y',
      'logs/app.log': 'z',
      'secret/key.pem': 'k',
      'docs/a/b/guide.md': 'g',
      'docs/keep/README.md': 'r',
      'docs/index.html': 'i',
      'README.md': 'case matters',
    });
    expect([...ctx.keys()].sort()).toEqual([
      '.dockerignore',
      'Dockerfile',
      'README.md',
      'docs/index.html',
      'docs/keep/README.md',
      'important.log',
      'logs/app.log', // `*.log` matches the root only, as in Docker
      'node_modules/keep.js',
      'server.js',
    ]);
    expect(ctx.get('server.js')).toBe('listen()');
  });

  test('keeps the Dockerfile and the .dockerignore even when the rules exclude them', async () => {
    const ctx = await contextOf(
      { 'build/Dockerfile': 'FROM scratch\n', '.dockerignore': 'build\n.dockerignore\n*\n', 'app.js': '' },
      'build/Dockerfile',
    );
    expect([...ctx.keys()].sort()).toEqual(['.dockerignore', 'build/Dockerfile']);
  });

  test('sends everything when there is no .dockerignore, symlinks and directories included', async () => {
    const ctx = await contextOf({
      Dockerfile: 'FROM scratch\n',
      empty: { dir: true },
      current: { symlink: 'releases/1' },
      'releases/1/a.txt': 'a',
    });
    expect(Object.fromEntries(ctx)).toEqual({
      Dockerfile: 'FROM scratch\n',
      empty: '<dir>',
      current: '-> releases/1',
      'releases/1/a.txt': 'a',
    });
  });

  test('adds the generated Dockerfile and a .dockerignore that keeps it out of the image', async () => {
    const ctx = await contextOf({ 'index.html': '<h1>hi</h1>' });
    expect(ctx.get('.slipway/Dockerfile')).toStartWith('FROM slipway-fixture/static:latest\n');
    expect(ctx.get('.dockerignore')).toBe('.dockerignore\n.slipway\n');
    expect(ctx.get('index.html')).toBe('<h1>hi</h1>');
  });

  test("appends to the user's .dockerignore for a generated Dockerfile, after applying it", async () => {
    const ctx = await contextOf({
      'index.html': '',
      '.dockerignore': '*.map\n',
      'app.js.map': '',
      '.slipway': { dir: true },
    });
    expect([...ctx.keys()].sort()).toEqual(['.dockerignore', '.slipway/Dockerfile', 'index.html']);
    expect(ctx.get('.dockerignore')).toBe('*.map\n\n.slipway\n');
  });

  test('fails the stream when the stored source is corrupt', async () => {
    const source = await sources.make({ 'index.html': '' });
    const plan = planBuild(source, { projectDockerfile: null, images: FIXTURE_IMAGES });
    writeFileSync(source.tgz, Buffer.from('not gzip at all'));
    await expect(readTar(buildContext(source.tgz, plan))).rejects.toThrow();
    await expect(bufferedContext(source.tgz, plan)).rejects.toThrow();
  });

  test('leaves a source that is large, or inflates to much, to the streamed context', async () => {
    const random = crypto.getRandomValues(new Uint8Array(60_000));
    const large = Buffer.concat(Array.from({ length: 5 }, () => random)); // 300 kB that gzip cannot shrink
    const cases: Tree[] = [{ 'index.html': large.toString('latin1') }, { 'index.html': 'a'.repeat(5_000_000) }];
    for (const tree of cases) {
      const source = await sources.make(tree);
      const plan = planBuild(source, { projectDockerfile: null, images: FIXTURE_IMAGES });
      expect(await bufferedContext(source.tgz, plan)).toBeNull();
      expect((await readTar(buildContext(source.tgz, plan))).get('index.html')?.length).toBe(
        (tree['index.html'] as string).length,
      );
    }
  });
});
