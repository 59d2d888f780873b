/**
 * Project A's Dockerfile trying to reach project B's images, against the real engine. Each attack
 * is first shown to work when the Dockerfile goes to the engine unchecked (B's secret appears in
 * the build output), then shown to be refused when the build goes through Slipway's path.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { buildLabelledImage } from '../../src/build/labelled.ts';
import type { BuildPlan } from '../../src/build/plan.ts';
import { DockerfileRefused, ImageLabelsForged } from '../../src/deployments/failures.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { buildHarness, PLAIN_SANDBOX, stepImage } from './harness.ts';
import { sourceFactory, type Tree } from './sources.ts';

const engine = dockerClient();
/** Build requests that reached the engine through `docker` (the client Slipway's path is given). */
let buildCalls = 0;
const docker = new Proxy(engine, {
  get(target, prop) {
    if (prop === 'buildImage') buildCalls++;
    const value = Reflect.get(target, prop) as unknown;
    return typeof value === 'function' ? value.bind(target) : value;
  },
}) as Docker;

const B = `b-${randomUUID().slice(0, 8)}`;
const SECRET = `secret-of-${B}`;
const MiB = 1024 ** 2;

describe.skipIf(!(await requireDocker()))("a build reaching another project's images", () => {
  const harness = buildHarness(docker);
  const sources = sourceFactory();
  let bImage = '';
  let bStep = '';

  beforeAll(async () => {
    // Project B's release: its source (the secret) is in the image and in the untagged image of
    // its COPY step (step 3, after the LABEL every stage starts with).
    const run = await harness.build(
      {
        Dockerfile: 'FROM slipway-fixture/static:latest\nCOPY secret.txt /secret.txt\nRUN true\n',
        'secret.txt': `${SECRET}\n`,
      },
      { tag: `slipway/${B}:1` },
    );
    expect(run.error).toBeUndefined();
    bImage = run.result!.imageId;
    bStep = (await engine.getImage(stepImage(run.lines, 3)!).inspect()).Id;
  }, 60_000);

  afterAll(async () => {
    await harness.cleanup();
    sources.cleanup();
  });

  const unchecked = (tree: Tree) => harness.unchecked(tree);

  /** Builds the tree through Slipway's path; returns the refusal, and how many builds reached the engine. */
  async function refused(tree: Tree): Promise<{ error: Error; builds: number }> {
    const before = buildCalls;
    const run = await harness.build(tree).catch((error: Error) => ({ error }));
    expect(run.error).toBeInstanceOf(DockerfileRefused);
    return { error: run.error!, builds: buildCalls - before };
  }

  /**
   * The shortest prefix of `id`'s hex digits that the engine resolves to that image alone, with a
   * letter in it (the engine reads an all-digit `--from` as a stage index).
   */
  async function shortestPrefix(id: string): Promise<string> {
    const hex = id.replace(/^sha256:/, '');
    for (let n = 4; n < 64; n++) {
      if (!/[a-f]/.test(hex.slice(0, n))) continue;
      const found = await engine
        .getImage(hex.slice(0, n))
        .inspect()
        .catch(() => null);
      if (found?.Id === id) return hex.slice(0, n);
    }
    return hex;
  }

  test('FROM slipway/<B>:1 is refused before the engine is called', async () => {
    const attack = { Dockerfile: `FROM slipway/${B}:1\nRUN echo ${randomUUID()} && cat /secret.txt\n` };
    expect((await unchecked(attack)).lines).toContain(SECRET);
    const { error, builds } = await refused(attack);
    expect(error.message).toBe(
      `Dockerfile refused at line 1: FROM slipway/${B}:1 names a Slipway release image; builds may start only from public images`,
    );
    expect(builds).toBe(0);
  }, 60_000);

  test('COPY --from=slipway/<B>:1 is refused before the engine is called', async () => {
    const attack = {
      Dockerfile: `FROM slipway-fixture/static:latest\nCOPY --from=slipway/${B}:1 /secret.txt /s\nRUN echo ${randomUUID()} && cat /s\n`,
    };
    expect((await unchecked(attack)).lines).toContain(SECRET);
    const { error, builds } = await refused(attack);
    expect(error.message).toBe(
      `Dockerfile refused at line 2: COPY --from=slipway/${B}:1 names a Slipway release image; builds may copy only from public images or earlier stages`,
    );
    expect(builds).toBe(0);
  }, 60_000);

  test("B's release image named by the shortest prefix of its ID is refused", async () => {
    const prefix = await shortestPrefix(bImage);
    const attack = { Dockerfile: `FROM ${prefix}\nRUN echo ${randomUUID()} && cat /secret.txt\n` };
    expect((await unchecked(attack)).lines).toContain(SECRET);
    const { error, builds } = await refused(attack);
    expect(error.message).toBe(
      `Dockerfile refused at line 1: FROM ${prefix} matches a local image by its ID; name images by repository and tag`,
    );
    expect(builds).toBe(0);
  }, 60_000);

  test("the untagged image of a step of B's build, named by ID prefix, is refused", async () => {
    const prefix = await shortestPrefix(bStep);
    const attack = {
      Dockerfile: `FROM slipway-fixture/static:latest\nCOPY --from=${prefix} /secret.txt /s\nRUN echo ${randomUUID()} && cat /s\n`,
    };
    expect((await unchecked(attack)).lines).toContain(SECRET);
    const { error, builds } = await refused(attack);
    expect(error.message).toBe(
      `Dockerfile refused at line 2: COPY --from ${prefix} matches a local image by its ID; name images by repository and tag`,
    );
    expect(builds).toBe(0);
  }, 60_000);

  test("B's image under an innocent name is refused for its Slipway labels", async () => {
    const repo = `innocent-${randomUUID().slice(0, 8)}`;
    await engine.getImage(bImage).tag({ repo, tag: '1' });
    const { error, builds } = await refused({
      Dockerfile: `FROM ${repo}:1\nRUN echo ${randomUUID()} && cat /secret.txt\n`,
    });
    expect(error.message).toBe(
      `Dockerfile refused at line 1: FROM ${repo}:1 is an image with Slipway's labels (slipway.managed); builds may not use it`,
    );
    expect(builds).toBe(0);
  }, 60_000);

  test("a local base image's ONBUILD trigger that copies from B by ID prefix is refused", async () => {
    const prefix = await shortestPrefix(bStep);
    const repo = `onbuild-${randomUUID().slice(0, 8)}`;
    const base = await unchecked({
      Dockerfile: `FROM slipway-fixture/static:latest\nLABEL slipway.test=${harness.labels['slipway.test']}\nONBUILD COPY --from=${prefix} /secret.txt /stolen\n`,
    });
    expect(base.error).toBeUndefined();
    await engine.getImage(base.tag).tag({ repo, tag: '1' });
    const attack = { Dockerfile: `FROM ${repo}:1\nRUN echo ${randomUUID()} && cat /stolen\n` };
    expect((await unchecked(attack)).lines).toContain(SECRET);
    const { error, builds } = await refused(attack);
    expect(error.message).toBe(
      `Dockerfile refused at line 1: FROM ${repo}:1: ONBUILD COPY --from ${prefix} matches a local image by its ID; name images by repository and tag`,
    );
    expect(builds).toBe(0);
  }, 60_000);

  test('a Slipway label inherited from a base image the checks missed stops the release', async () => {
    const repo = `forged-${randomUUID().slice(0, 8)}`;
    const base = await unchecked({
      Dockerfile: `FROM slipway-fixture/static:latest\nLABEL slipway.test=${harness.labels['slipway.test']} slipway.role=database\n`,
    });
    expect(base.error).toBeUndefined();
    await engine.getImage(base.tag).tag({ repo, tag: '1' });
    // As if the base image had been pulled during the build, after the checks.
    const source = await sources.make({ Dockerfile: `FROM ${repo}:1\nCMD ["true"]\n` });
    const plan: BuildPlan = {
      stack: 'dockerfile',
      dockerfilePath: 'Dockerfile',
      generatedDockerfile: null,
      dockerignore: null,
      checked: { images: [], bases: [] },
    };
    const error = await buildLabelledImage(docker, {
      source: source.tgz,
      plan,
      labels: harness.labels,
      tag: `slipway-test/${harness.labels['slipway.test']}:forged`,
      memoryBytes: 256 * MiB,
      timeoutMs: 60_000,
      sandbox: PLAIN_SANDBOX,
      signal: new AbortController().signal,
      onLine: () => {},
    }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ImageLabelsForged);
    expect((error as Error).message).toBe(
      'The built image carries Slipway labels it was not given (slipway.role); it was not released',
    );
  }, 60_000);
});
