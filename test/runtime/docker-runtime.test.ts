import { afterAll, describe, expect, test } from 'bun:test';
import type Docker from 'dockerode';
import { dockerRuntime } from '../../src/runtime/docker-runtime.ts';
import { networkName } from '../../src/runtime/network.ts';
import { overlaps, parseIpv4Range } from '../../src/runtime/subnets.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { makeTestApp, TEST_ACTOR } from '../helpers/app.ts';

const hasDocker = await requireDocker();
const P = `rt-${crypto.randomUUID().slice(0, 6)}`;
const STATIC_IMAGE = 'slipway-fixture/static:latest';
const t = makeTestApp();
t.deps.projects.create(TEST_ACTOR, { name: P });
const projectId = t.deps.db.prepare('SELECT id FROM projects WHERE name = ?').pluck().get(P) as string;

/** The real engine client, counting the network listings it is asked for. */
function countingClient(): { docker: Docker; lists: () => number } {
  const docker = dockerClient();
  let lists = 0;
  const listNetworks = docker.listNetworks.bind(docker);
  docker.listNetworks = ((opts: unknown) => {
    lists++;
    return listNetworks(opts as never);
  }) as typeof docker.listNetworks;
  return { docker, lists: () => lists };
}

afterAll(async () => {
  if (hasDocker) {
    const docker = dockerClient();
    const left = await docker.listContainers({ all: true, filters: { label: [`slipway.project=${P}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await docker
      .getNetwork(networkName(P))
      .remove()
      .catch(() => {});
  }
  t.close();
});

describe.skipIf(!hasDocker)('the Docker runtime', () => {
  test('ensures the project network: made labelled once, then found and kept', async () => {
    const { docker, lists } = countingClient();
    const runtime = dockerRuntime(docker, t.deps.instances, 'agt_test');
    expect(await runtime.ensureNetwork(P)).toBe(networkName(P));
    const made = await docker.getNetwork(networkName(P)).inspect();
    expect(made.Labels).toMatchObject({ 'slipway.managed': 'true', 'slipway.project': P });
    expect(await runtime.ensureNetwork(P)).toBe(networkName(P));
    expect((await docker.getNetwork(networkName(P)).inspect()).Id).toBe(made.Id);
    expect(lists()).toBe(2); // each call asks the engine; the pipeline hands its answer on instead
  });

  test('gives each project network a /24 of the pool that no other network of the engine overlaps, eight of them made at once', async () => {
    const pool = parseIpv4Range('172.16.0.0/12')!;
    const runtime = dockerRuntime(dockerClient(), t.deps.instances, 'agt_test', pool);
    const projects = Array.from({ length: 8 }, (_, i) => `${P}-n${i}`);
    try {
      await Promise.all(projects.map((p) => runtime.ensureNetwork(p)));
      const networks = await dockerClient().listNetworks();
      const subnetOf = (n: (typeof networks)[number]) => parseIpv4Range(n.IPAM?.Config?.[0]?.Subnet ?? '');
      const ours = networks.filter((n) => projects.includes(n.Labels?.['slipway.project'] ?? ''));
      expect(ours).toHaveLength(8);
      const others = networks.filter((n) => !ours.includes(n)).flatMap((n) => subnetOf(n) ?? []);
      const mine = ours.map((n) => subnetOf(n)!);
      for (const [i, subnet] of mine.entries()) {
        expect(subnet.prefix).toBe(24);
        expect(overlaps(subnet, pool)).toBe(true);
        expect(others.filter((o) => overlaps(o, subnet))).toEqual([]);
        expect(mine.filter((m, j) => j !== i && overlaps(m, subnet))).toEqual([]);
      }
    } finally {
      await Promise.all(projects.map((p) => runtime.removeNetwork(p)));
    }
  });

  test('makes the network again after removing it', async () => {
    const { docker } = countingClient();
    const runtime = dockerRuntime(docker, t.deps.instances, 'agt_test');
    await runtime.ensureNetwork(P);
    await runtime.removeNetwork(P);
    await expect(docker.getNetwork(networkName(P)).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await runtime.ensureNetwork(P);
    expect((await docker.getNetwork(networkName(P)).inspect()).Name).toBe(networkName(P));
  });

  test('starts an instance recorded by id, and reports the state it started in for the health gate', async () => {
    const docker = dockerClient();
    const runtime = dockerRuntime(docker, t.deps.instances, 'agt_test');
    const network = await runtime.ensureNetwork(P);
    const image = (await docker.getImage(STATIC_IMAGE).inspect()).Id;
    const [instance] = await runtime.start(
      {
        agentId: 'agt_test',
        project: P,
        projectId,
        deploymentId: 'dep_test',
        number: 1,
        image,
        imageTag: null,
        network,
        port: 8080,
        env: {},
        memoryMb: 64,
        cpus: 0.5,
      },
      1,
    );
    expect(instance!.started).toEqual({ running: true, oomKilled: false, exitCode: 0 });
    expect(instance!.target).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(t.deps.instances.ofProject(projectId).map((r) => r.container_id)).toEqual([instance!.id]);
    const info = await docker.getContainer(instance!.id).inspect();
    expect(info.State.Running).toBe(true);
    expect(info.Image).toBe(image);
    await runtime.remove([instance!.id], 0);
    expect(t.deps.instances.ofProject(projectId)).toEqual([]);
  });
});
