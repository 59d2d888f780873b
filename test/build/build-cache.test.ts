/**
 * The build cache collector on the real engine: after a project's build, the build stages its
 * earlier builds left untagged (and a failed build's last good step) are removed, its latest ones
 * stay (and with them the layers the next build takes from the cache), and nothing of another
 * project, of another agent or without Slipway's labels is touched. What a failed generated build
 * leaves in its last stage names no project: it goes at a collection while no build runs.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { buildGate } from '../../src/build/build-gate.ts';
import { collectBuildCache, sweepLeftovers } from '../../src/build/build-cache.ts';
import { planBuild } from '../../src/build/plan.ts';
import { createLogger } from '../../src/log.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { buildHarness, type BuildRun, stepImage } from './harness.ts';
import { FIXTURE_IMAGES } from './sources.ts';

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
  const agentId = `agt_${salt.slice(0, 8)}`;
  const agent = { 'slipway.agent': agentId };
  const scope = (project: string) => ({ agentId, project });
  const project = (name: string) => ({ ...harness.labels, ...agent, 'slipway.project': name });
  const build = (files: Record<string, string>, name: string, by = agent) =>
    harness.build(files, { extraLabels: { ...by, 'slipway.project': name } });
  afterAll(() => harness.cleanup());

  test('keeps the latest build’s stages, removes earlier ones, and leaves others’ untouched', async () => {
    const staged = (name: string, version: string) => build({ Dockerfile: dockerfile(salt), VERSION: version }, name);
    const first = stageOf(await staged('a', 'v1'));
    const other = stageOf(await staged('b', 'v1'));
    const unlabelled = await harness.unchecked({ Dockerfile: dockerfile(`${salt}-plain`), VERSION: 'v1' });
    expect(unlabelled.error).toBeUndefined();
    const [plain] = unlabelled.result!.stageImageIds;
    expect((await docker.getImage(first).inspect()).Config.Labels).toMatchObject(project('a'));

    const secondRun = await staged('a', 'v2');
    const second = stageOf(secondRun);
    expect(await collectBuildCache(docker, scope('a'), [second], log)).toBe(1);
    expect([await exists(first), await exists(second), await exists(other)]).toEqual([false, true, true]);
    expect(await exists(plain!)).toBe(true);

    // The next build still finds its dependency step in the cache.
    const third = await staged('a', 'v3');
    expect(third.error).toBeUndefined();
    const deps = third.lines.findIndex((l) => l.includes(`RUN echo deps-${salt}`));
    expect(third.lines.slice(deps + 1, deps + 3)).toContain(' ---> Using cache');
    expect(await collectBuildCache(docker, scope('a'), third.result!.stageImageIds, log)).toBe(1);
    expect(await exists(second)).toBe(false);
  }, 120_000);

  test('removes what a failed build left at the project’s next successful build', async () => {
    const failing = await build(
      { Dockerfile: `FROM slipway-fixture/static:latest\nRUN echo ${salt} > /kept\nRUN exit 1\n` },
      'c',
    );
    expect(failing.error).toBeDefined();
    const left = stepImage(failing.lines, 3);
    expect((await docker.getImage(left!).inspect()).Config.Labels).toMatchObject(project('c'));
    const next = await build({ Dockerfile: 'FROM slipway-fixture/static:latest\nRUN true\n' }, 'c');
    expect(next.error).toBeUndefined();
    expect(await collectBuildCache(docker, scope('c'), next.result!.stageImageIds, log)).toBe(1);
    expect(await exists(left!)).toBe(false);
  }, 120_000);

  test('removes what a failed generated build left in its last stage only while no build runs, and never another agent’s', async () => {
    // A generated Dockerfile whose step after the source copy fails: the copy's image, which holds
    // the project's source, is left untagged with the agent's labels alone.
    const failGenerated = (by: Record<string, string>) =>
      harness.build(
        { 'index.html': `<p>${salt}</p>` },
        {
          extraLabels: by,
          stageLabels: { ...by, 'slipway.project': 'd' },
          plan: (source) => {
            const plan = planBuild(source, { projectDockerfile: null, images: FIXTURE_IMAGES });
            return { ...plan, generatedDockerfile: `${plan.generatedDockerfile}RUN exit 1\n` };
          },
        },
      );
    const ours = await failGenerated(agent);
    const theirs = await failGenerated({ 'slipway.agent': `${agentId}-other` });
    expect([ours.error, theirs.error].every((e) => e !== undefined)).toBe(true);
    const copied = (run: BuildRun) => stepImage(run.lines, run.lines.filter((l) => l.startsWith('Step ')).length - 1)!;
    const [left, foreign] = [copied(ours), copied(theirs)];
    const labels = (await docker.getImage(left).inspect()).Config.Labels;
    expect(labels).toMatchObject({ 'slipway.managed': 'true', ...agent });
    expect(labels['slipway.project']).toBeUndefined();

    // Another project's build is running: the leftover could be the step it builds on next.
    const leave = await buildGate.enter();
    const next = await build({ Dockerfile: 'FROM slipway-fixture/static:latest\nRUN true\n' }, 'e');
    expect(await collectBuildCache(docker, scope('e'), next.result!.stageImageIds, log)).toBe(0);
    expect(await sweepLeftovers(docker, agentId, log)).toBe(0);
    expect(await exists(left)).toBe(true);
    leave();

    expect(await collectBuildCache(docker, scope('e'), next.result!.stageImageIds, log)).toBe(1);
    expect([await exists(left), await exists(foreign)]).toEqual([false, true]);
  }, 120_000);

  test('holds a build that starts while a sweep runs until the sweep ends', async () => {
    const order: string[] = [];
    let finish = () => {};
    const sweep = buildGate.whenIdle(
      () =>
        new Promise<void>((resolve) => {
          finish = () => {
            order.push('sweep done');
            resolve();
          };
        }),
    );
    const entered = buildGate.enter().then((leave) => {
      order.push('build started');
      return leave;
    });
    await Bun.sleep(20);
    expect(order).toEqual([]);
    finish();
    await sweep;
    (await entered)();
    expect(order).toEqual(['sweep done', 'build started']);
    expect(buildGate.builds).toBe(0);
  });
});
