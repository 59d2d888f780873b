import { afterAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { BuildError } from '../../src/deployments/failures.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { announcedContainers, buildHarness, stepImage } from './harness.ts';

const docker = dockerClient();
const MiB = 1024 ** 2;

// Step 2 is unique to each build, so containers created from its image can only be this build's.
const sleeper = () => ({
  Dockerfile: `FROM slipway-fixture/static:latest\nRUN echo ${randomUUID()}\nRUN echo sleeping && sleep 60\nCMD ["true"]\n`,
});

/**
 * No container of the build exists: neither one the builder announced (`Running in`) nor any
 * created from the image of step 2, the parent of the sleeping step, found independently of
 * the builder's own bookkeeping. Checked again a few seconds later, for a straggler.
 */
async function expectNoBuildContainers(lines: string[]): Promise<void> {
  try {
    await expectNoneLeft(lines);
  } catch (err) {
    console.log(`the build's output:\n${lines.slice(-30).join('\n')}`); // what the builder said of its containers
    throw err;
  }
}

async function expectNoneLeft(lines: string[]): Promise<void> {
  const parent = stepImage(lines, 2);
  expect(parent).not.toBeNull();
  const announced = announcedContainers(lines);
  expect(announced.length).toBeGreaterThan(0);
  for (const pass of [1, 2]) {
    for (const id of announced)
      await expect(docker.getContainer(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect(await docker.listContainers({ all: true, filters: { ancestor: [parent!] } })).toEqual([]);
    if (pass === 1) await Bun.sleep(3000);
  }
}

describe.skipIf(!(await requireDocker()))('stopping a build', () => {
  const harness = buildHarness(docker);
  afterAll(() => harness.cleanup());

  test('a cancel during a RUN ends the build within seconds and leaves no container', async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    const run = await harness.build(sleeper(), {
      signal: controller.signal,
      onLine: (line) => {
        if (line !== 'sleeping') return;
        setTimeout(() => {
          abortedAt = Date.now();
          controller.abort();
        }, 300);
      },
    });
    const stoppedIn = Date.now() - abortedAt;
    expect(run.error).toBeInstanceOf(BuildError);
    expect(run.error!.message).toBe('Build canceled at step 4/6');
    expect((run.error as BuildError).canceled).toBe(true);
    expect(stoppedIn).toBeLessThan(5000);
    console.log(`cancel: build threw ${stoppedIn} ms after the abort`);
    await expectNoBuildContainers(run.lines);
  }, 30_000);

  test('a timeout ends the build and leaves no container', async () => {
    const run = await harness.build(sleeper(), { timeoutMs: 3000 });
    expect(run.error).toBeInstanceOf(BuildError);
    expect(run.error!.message).toBe('Build timed out after 3 s at step 4/6');
    expect((run.error as BuildError).canceled).toBe(false);
    expect(run.elapsedMs).toBeLessThan(8000);
    console.log(`timeout: 3000 ms limit, build threw after ${run.elapsedMs} ms`);
    await expectNoBuildContainers(run.lines);
  }, 30_000);

  test('a signal aborted before the start builds nothing', async () => {
    const run = await harness.build(sleeper(), { signal: AbortSignal.abort() });
    expect(run.error).toMatchObject({ message: 'Build canceled', canceled: true });
    expect(run.lines).toEqual([]);
  });

  test('a RUN killed for memory is reported as out of memory', async () => {
    // busybox sh keeps the 200 MB command substitution in memory, far past the 32 MiB limit.
    const run = await harness.build(
      {
        Dockerfile:
          "FROM slipway-fixture/static:latest\nRUN x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo ${#x}\n",
      },
      { memoryBytes: 32 * MiB },
    );
    expect(run.error).toBeInstanceOf(BuildError);
    expect(run.error!.message).toBe('Build ran out of memory (limit 32 MiB) at step 3/4');
    console.log(`oom: build failed after ${run.elapsedMs} ms`);
  }, 60_000);
});
