import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import {
  BuildCanceled,
  ImagePullFailed,
  ImagePullTimedOut,
  ImagePullTooLarge,
} from '../../src/deployments/failures.ts';
import { pullImage, type PullOptions } from '../../src/images/pull.ts';
import { parseImageReference } from '../../src/images/reference.ts';
import { cleanupByLabel, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';
import { buildTestImage, startRegistry, type TestRegistry } from '../helpers/registry.ts';

const hasDocker = await requireDocker();
const docker = dockerClient();
const labels = testLabel();
let registry: TestRegistry;

beforeAll(async () => {
  if (!hasDocker) return;
  registry = await startRegistry();
  const local = `slipway-test-image/${labels['slipway.test']}:pull`;
  await buildTestImage(
    docker,
    local,
    { Dockerfile: 'FROM slipway-fixture/static:latest\nCOPY big /big\n', big: 'x'.repeat(200_000) },
    labels,
  );
  await registry.push(docker, local, 'team/pull:1');
  // Gone from the engine, so a pull downloads its own layer again (the base layers stay shared).
  await docker.getImage(local).remove();
}, 60_000);

afterAll(async () => {
  if (!hasDocker) return;
  await registry.stop();
  await cleanupByLabel(docker, labels['slipway.test']);
});

function options(extra: Partial<PullOptions> = {}): PullOptions & { lines: string[] } {
  const lines: string[] = [];
  return {
    ref: parseImageReference(`${registry.host}/team/pull:1`),
    auth: { username: registry.username, password: registry.password, serveraddress: registry.host },
    maxBytes: 1024 ** 3,
    timeoutMs: 60_000,
    signal: new AbortController().signal,
    onLine: (line) => lines.push(line),
    lines,
    ...extra,
  };
}

/** Every reference the engine holds under the test registry's host. */
async function registryRefs(): Promise<string[]> {
  const all = await docker.listImages();
  return all
    .flatMap((i) => [...(i.RepoTags ?? []), ...(i.RepoDigests ?? [])])
    .filter((r) => r.startsWith(registry.host));
}

describe.skipIf(!hasDocker)('pulling a prebuilt image', () => {
  test('pulls by digest, logs the layers, and writes no tag of the registry name', async () => {
    const o = options();
    const pulled = await pullImage(docker, o);
    expect(pulled.digestRef).toMatch(new RegExp(`^${registry.host}/team/pull@sha256:[0-9a-f]{64}$`));
    const info = await docker.getImage(pulled.imageId).inspect();
    expect((info.RepoTags ?? []).filter((tag) => tag.startsWith(registry.host))).toEqual([]);
    expect(o.lines[0]).toStartWith(`Pulling ${registry.host}/team/pull:1 (sha256:`);
    expect(o.lines[0]).toEndWith(` as ${registry.username}`);
    expect(o.lines).toContainEqual(expect.stringMatching(/^[0-9a-f]{12}: Already exists$/));
    // A small layer may finish before the engine reports any progress: then only its completion
    // shows (the progress lines themselves are tested in reference.test.ts).
    expect(o.lines).toContainEqual(
      expect.stringMatching(/^[0-9a-f]{12}: (Downloading 0\.\d MB of 0\.\d MB|Download complete)$/),
    );
    expect(o.lines).toContainEqual(expect.stringMatching(/^[0-9a-f]{12}: Pull complete$/));
    expect(o.lines.at(-1)).toMatch(/^Pulled .* \(sha256:[0-9a-f]{12}, [\d.]+ MB\) in [\d.]+ s$/);
    await docker.getImage(pulled.digestRef).remove();
    expect(await registryRefs()).toEqual([]);
  });

  test('an image past the size limit is refused and not kept', async () => {
    const err = await pullImage(docker, options({ maxBytes: 100_000 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullTooLarge);
    expect((err as Error).message).toBe(
      `Cannot pull ${registry.host}/team/pull:1: the image is larger than the 0.1 MiB limit (SLIPWAY_PULL_MAX_BYTES)`,
    );
    expect(await registryRefs()).toEqual([]);
  });

  test('a pull past its timeout is stopped', async () => {
    const err = await pullImage(docker, options({ timeoutMs: 1 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullTimedOut);
    expect((err as Error).message).toContain('(SLIPWAY_PULL_TIMEOUT)');
  });

  test('a canceled deployment stops its pull', async () => {
    const abort = new AbortController();
    abort.abort();
    const err = await pullImage(docker, options({ signal: abort.signal })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildCanceled);
  });

  test('without credentials the registry asks for them, and a missing repository is named', async () => {
    const noAuth = await pullImage(docker, options({ auth: null })).catch((e: unknown) => e);
    expect(noAuth).toBeInstanceOf(ImagePullFailed);
    expect((noAuth as Error).message).toBe(
      `Cannot pull ${registry.host}/team/pull:1: the registry requires credentials; an admin can add them with \`slipway registries add\``,
    );
    const missing = await pullImage(
      docker,
      options({ ref: parseImageReference(`${registry.host}/team/none:1`) }),
    ).catch((e: unknown) => e);
    expect((missing as Error).message).toBe(
      `Cannot pull ${registry.host}/team/none:1: the registry has no such image or tag`,
    );
  });
});
