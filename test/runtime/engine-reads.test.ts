import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { engineReads } from '../../src/runtime/engine-reads.ts';
import { engineUnreachable, lazyDockerClient } from '../../src/runtime/docker.ts';
import { cleanupByLabel, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';

const docker = dockerClient();
const reads = engineReads({ dockerHost: null });
const label = testLabel();
const network = `slipway-reads-${label['slipway.test']}`;

beforeAll(async () => {
  if (!(await requireDocker())) throw new Error('these tests need a Docker engine');
  await docker.createNetwork({
    Name: network,
    Labels: label,
    Options: { 'com.docker.network.bridge.enable_icc': 'false' },
  });
  await docker.createContainer({ Image: 'slipway-fixture/static:latest', Labels: { ...label, 'slipway.role': 'app' } });
});

afterAll(async () => {
  await cleanupByLabel(docker, label['slipway.test']);
  await docker
    .getNetwork(network)
    .remove()
    .catch(() => {});
});

/** What a call resolved with, or the fields of the error it rejected with. */
async function outcome(call: () => Promise<unknown>) {
  try {
    return { value: await call() };
  } catch (err) {
    const { message, statusCode, reason, json, code } = err as Record<string, unknown>;
    return { error: { message, statusCode, reason, json, code } };
  }
}

describe('the engine reads an idle agent makes without dockerode', () => {
  test('list the containers dockerode lists for the same filters', async () => {
    const options = { all: true, filters: { label: [`slipway.test=${label['slipway.test']}`, 'slipway.role=app'] } };
    const [plain, viaDockerode] = await Promise.all([reads.listContainers(options), docker.listContainers(options)]);
    expect(plain.length).toBe(1);
    expect(plain.map((c) => c.Id)).toEqual(viaDockerode.map((c) => c.Id));
    expect(plain[0]!.Labels).toEqual(viaDockerode[0]!.Labels);
    const limited = await reads.listContainers({ all: true, limit: 1 });
    expect(limited.length).toBe(1);
  });

  test("read the engine's info as dockerode does", async () => {
    const [plain, viaDockerode] = (await Promise.all([reads.info(), docker.info()])) as { ID: string }[];
    expect(plain!.ID).toBe(viaDockerode!.ID);
  });

  test('inspect a network, and fail on a missing one with the same error as dockerode', async () => {
    const [plain, viaDockerode] = await Promise.all([
      reads.inspectNetwork(network),
      docker.getNetwork(network).inspect(),
    ]);
    expect(plain.Id).toBe(viaDockerode.Id);
    expect(plain.Options).toEqual(viaDockerode.Options);
    const missing = 'slipway-no-such-network';
    const [plainError, dockerodeError] = await Promise.all([
      outcome(() => reads.inspectNetwork(missing)),
      outcome(() => docker.getNetwork(missing).inspect()),
    ]);
    expect(plainError.error?.statusCode).toBe(404);
    expect(plainError).toEqual(dockerodeError);
  });

  test('reject a bad filter with the same error as dockerode', async () => {
    const bad = { filters: { nonsense: ['x'] } };
    const [plainError, dockerodeError] = await Promise.all([
      outcome(() => reads.listContainers(bad)),
      outcome(() => docker.listContainers(bad)),
    ]);
    expect(plainError.error?.statusCode).toBe(400);
    expect(plainError).toEqual(dockerodeError);
  });

  test('reject with the socket error code when the engine is not reached', async () => {
    const gone = engineReads({ dockerHost: 'unix:///nonexistent/docker.sock' });
    const err = await gone.listContainers().catch((e: unknown) => e);
    expect((err as Error).message).toBe('connect ENOENT /nonexistent/docker.sock');
    expect(engineUnreachable(err)).toBe(true);
  });
});

describe('the wired client with light reads', () => {
  test('does not make dockerode for the reads, and does for anything else', async () => {
    let made = 0;
    const lazy = lazyDockerClient(() => {
      made++;
      return dockerClient();
    }, reads);
    await lazy.listContainers({ all: true, filters: { label: ['slipway.role=app'] } });
    await lazy.info();
    const net = lazy.getNetwork(network);
    expect(net.id).toBe(network);
    expect((await net.inspect()).Name).toBe(network);
    expect(made).toBe(0);
    // Another method of the same network goes to dockerode's Network.
    expect(
      await lazy
        .getNetwork('slipway-no-such-network')
        .remove()
        .catch((err) => err.statusCode),
    ).toBe(404);
    expect(made).toBe(1);
    expect((await lazy.version()).Version).toBe((await docker.version()).Version);
    expect(made).toBe(1);
  });
});
