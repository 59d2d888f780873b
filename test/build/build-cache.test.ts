/**
 * The build cache collector on the real engine: after a project's build, the build stages its
 * earlier builds left untagged (and a failed build's last good step) are removed, its latest ones stay (and with them the layers the next
 * build takes from the cache), and nothing of another project or without Slipway's labels is touched.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { collectBuildCache } from '../../src/build/build-cache.ts';
import { createLogger } from '../../src/log.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { buildHarness, type BuildRun, stepImage } from './harness.ts';

const docker = dockerClient();
const log = createLogger('error', () => {});

/** Two stages: the build stage's first RUN stands for a dependency install, VERSION for the source. */
const dockerfile = (salt: string) =>
  [
    'FROM slipway-fixture/static:latest AS build',
    `RUN echo deps-${salt} > /deps`,
    'COPY VERSION /v',
    'RUN cat /deps /v > /out',
    'FROM slipway-fixture/static:latest',
    'COPY --from=build /out /out',
    '',
  ].join('\n');

const exists = (id: string) =>
  docker
    .getImage(id)
    .inspect()
    .then(
      () => true,
      (err: { statusCode?: number }) => (err.statusCode === 404 ? false : Promise.reject(err)),
    );

function stageOf(run: BuildRun): string {
  expect(run.error).toBeUndefined();
  expect(run.result!.stageImageIds).toHaveLength(1);
  return run.result!.stageImageIds[0]!;
}

describe.skipIf(!(await requireDocker()))('the build cache collector', () => {
  const harness = buildHarness(docker);
  const salt = crypto.randomUUID();
  const project = (name: string) => ({ ...harness.labels, 'slipway.project': name });
  afterAll(() => harness.cleanup());

  test('keeps the latest build’s stages, removes earlier ones, and leaves others’ untouched', async () => {
    const build = (name: string, version: string) =>
      harness.build({ Dockerfile: dockerfile(salt), VERSION: version }, { extraLabels: { 'slipway.project': name } });
    const first = stageOf(await build('a', 'v1'));
    const other = stageOf(await build('b', 'v1'));
    const unlabelled = await harness.unchecked({ Dockerfile: dockerfile(`${salt}-plain`), VERSION: 'v1' });
    expect(unlabelled.error).toBeUndefined();
    const [plain] = unlabelled.result!.stageImageIds;
    expect((await docker.getImage(first).inspect()).Config.Labels).toMatchObject(project('a'));

    const secondRun = await build('a', 'v2');
    const second = stageOf(secondRun);
    expect(await collectBuildCache(docker, project('a'), [second], log)).toBe(1);
    expect([await exists(first), await exists(second), await exists(other)]).toEqual([false, true, true]);
    expect(await exists(plain!)).toBe(true);

    // The next build still finds its dependency step in the cache.
    const third = await build('a', 'v3');
    expect(third.error).toBeUndefined();
    const deps = third.lines.findIndex((l) => l.includes(`RUN echo deps-${salt}`));
    expect(third.lines.slice(deps + 1, deps + 3)).toContain(' ---> Using cache');
    expect(await collectBuildCache(docker, project('a'), third.result!.stageImageIds, log)).toBe(1);
    expect(await exists(second)).toBe(false);
  }, 120_000);

  test('removes what a failed build left at the project’s next successful build', async () => {
    const failing = await harness.build(
      {
        Dockerfile: `FROM slipway-fixture/static:latest\nRUN echo ${salt} > /kept\nRUN exit 1\n`,
      },
      { extraLabels: { 'slipway.project': 'c' } },
    );
    expect(failing.error).toBeDefined();
    const left = stepImage(failing.lines, 3);
    expect((await docker.getImage(left!).inspect()).Config.Labels).toMatchObject(project('c'));
    const next = await harness.build(
      { Dockerfile: 'FROM slipway-fixture/static:latest\nRUN true\n' },
      { extraLabels: { 'slipway.project': 'c' } },
    );
    expect(next.error).toBeUndefined();
    expect(await collectBuildCache(docker, project('c'), next.result!.stageImageIds, log)).toBe(1);
    expect(await exists(left!)).toBe(false);
  }, 120_000);
});
