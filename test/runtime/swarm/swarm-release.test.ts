/**
 * The swarm runtime end to end on a real swarm (scripts/swarm-cluster.sh; a single node in the
 * default suite, more if another test brought them up): a real agent with SLIPWAY_RUNTIME=swarm
 * builds on the manager, publishes to the cluster registry, runs each release as its own service
 * and routes the edge to the tasks' `node address:published port`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { FIXTURE_IMAGES, retireAgent, startAgent, viaEdge, waitForStatus, type Agent } from '../../helpers/agent.ts';
import { runCommand } from '../../../src/databases/exec.ts';
import { tgzOf } from '../../helpers/archives.ts';
import { requireDocker } from '../../helpers/docker.ts';
import { constantLoad } from '../../helpers/fixtures.ts';
import { ensureSwarmCluster, removeSwarmLeftovers, type SwarmCluster } from '../../helpers/swarm-cluster.ts';
import { engineOfNode } from './node-engines.ts';

const A = `swa-${crypto.randomUUID().slice(0, 6)}`;
const B = `swb-${crypto.randomUUID().slice(0, 6)}`;
const hasDocker = await requireDocker();
let swarm: SwarmCluster;
let agent: Agent;

beforeAll(async () => {
  if (!hasDocker) return;
  swarm = ensureSwarmCluster(1);
  agent = await startAgent({
    env: {
      DOCKER_HOST: swarm.managerHost,
      SLIPWAY_RUNTIME: 'swarm',
      SLIPWAY_SWARM_REGISTRY: swarm.registry,
      SLIPWAY_DRAIN_TIMEOUT: '10',
      SLIPWAY_LOG_LEVEL: 'info',
      SLIPWAY_RECONCILE_INTERVAL: '2',
      // Two releases kept for rollbacks: the first of three goes, from the engine and the registry.
      SLIPWAY_RELEASE_RETENTION: '2',
    },
  });
  for (const [name, instances] of [
    [A, 2],
    [B, 1],
  ] as const)
    expect((await agent.call('POST', '/v1/projects', { name, instances })).status).toBe(201);
});

afterAll(async () => {
  // Only what beforeAll got to: a failed set-up is its own failure, not a second one here.
  if (agent) await retireAgent(agent, [A, B]);
  if (swarm) for (const p of [A, B]) await removeSwarmLeftovers(swarm, p);
});

async function deploy(
  project: string,
  body: string,
): Promise<{ id: string; status: string; failure_reason: string | null }> {
  const res = await agent.call(
    'POST',
    `/v1/projects/${project}/deployments`,
    new Uint8Array(tgzOf([{ name: 'index.html', body }])),
    {
      'content-type': 'application/gzip',
    },
  );
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  return waitForStatus(agent, project, id, ['live', 'failed', 'canceled'], 180_000) as never;
}

/** The release services of a project on the swarm. */
const servicesOf = async (project: string) =>
  (await swarm.manager.listServices({ filters: { label: [`slipway.project=${project}`, 'slipway.role=app'] } })) as {
    ID: string;
    Spec: Docker.ServiceSpec & { Name: string; TaskTemplate: { Networks?: { Target: string }[] } };
    Endpoint?: { Ports?: { PublishedPort?: number; PublishMode?: string }[] };
  }[];

/** The targets of the running tasks of the project's services, from the swarm itself. */
async function taskTargets(project: string): Promise<string[]> {
  const services = await servicesOf(project);
  if (services.length === 0) return [];
  const nodes = new Map(
    ((await swarm.manager.listNodes()) as { ID: string; Status: { Addr: string } }[]).map((n) => [n.ID, n.Status.Addr]),
  );
  const tasks = (await swarm.manager.listTasks({
    filters: { service: services.map((s) => s.ID), 'desired-state': ['running'] },
  })) as { NodeID: string; Status: { State: string; PortStatus?: { Ports?: { PublishedPort: number }[] } } }[];
  return tasks
    .filter((t) => t.Status.State === 'running')
    .map((t) => `${nodes.get(t.NodeID)}:${t.Status.PortStatus?.Ports?.[0]?.PublishedPort}`)
    .sort();
}

/** The tags of project A's repository in the cluster registry. */
async function registryTags(): Promise<string[]> {
  const res = await fetch(`http://${swarm.registry}/v2/slipway/${A}/tags/list`);
  return ((await res.json()) as { tags?: string[] | null }).tags ?? [];
}

/** The targets the agent routes the project to (its database, read-only). */
function routeTargets(project: string): string[] {
  const db = new Database(join(agent.dataDir, 'slipway.db'), { readonly: true });
  try {
    const row = db.query('SELECT targets FROM edge_routes WHERE project = ?').get(project) as {
      targets: string;
    } | null;
    return row ? (JSON.parse(row.targets) as string[]).sort() : [];
  } finally {
    db.close();
  }
}

async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await Bun.sleep(200);
  }
}

describe.skipIf(!hasDocker)('the swarm runtime', () => {
  test('runs a release as one service of 2 tasks on random host ports, answering through the edge', async () => {
    expect((await deploy(A, 'v1')).status).toBe('live');
    expect(await (await viaEdge(agent.edgePort!, `${A}.localhost`)).text()).toBe('v1');
    const [service, ...others] = await servicesOf(A);
    expect(others).toEqual([]);
    expect(service!.Spec.Name).toMatch(new RegExp(`^slipway-${A}-1-[0-9a-f]{8}$`));
    expect(service!.Spec.Mode).toEqual({ Replicated: { Replicas: 2 } });
    expect(service!.Spec.TaskTemplate.Networks?.map((n) => n.Target)).toHaveLength(1);
    // Host mode, no fixed port: each task got an ephemeral port of its node.
    expect(service!.Spec.EndpointSpec?.Ports).toEqual([{ Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host' }]);
    const targets = await taskTargets(A);
    expect(targets).toHaveLength(2);
    for (const t of targets) expect(Number(t.split(':')[1])).toBeGreaterThanOrEqual(32768);
  });

  test('routes the edge to exactly the running tasks of the live release', async () => {
    expect(routeTargets(A)).toEqual(await taskTargets(A));
  });

  test('redeploys twice and rolls back under constant load without one failed request', async () => {
    const load = constantLoad(`http://127.0.0.1:${agent.edgePort}/`, `${A}.localhost`, 4);
    expect((await deploy(A, 'v2')).status).toBe('live');
    expect((await deploy(A, 'v3')).status).toBe('live');
    const rollback = await agent.call('POST', `/v1/projects/${A}/rollback`, {});
    expect(rollback.status).toBe(202);
    const { id } = (await rollback.json()) as { id: string };
    const rolledBack = await waitForStatus(agent, A, id, ['live', 'failed'], 180_000);
    // A failure here was seen now and then in CI: say why, with the deployment's log.
    if (rolledBack.status !== 'live')
      console.log(
        JSON.stringify(rolledBack),
        await (await agent.call('GET', `/v1/projects/${A}/deployments/${id}/logs`)).text(),
      );
    expect(rolledBack.status).toBe('live');
    // Live means the edge switched: let the load see the rolled-back release before it stops.
    await until(
      async () => (await viaEdge(agent.edgePort!, `${A}.localhost`)).text(),
      (body) => body === 'v2',
      'the rollback through the edge',
    );
    await Bun.sleep(200);
    const result = await load.stop();
    console.log(`swarm: load during 3 swaps: ${result.ok} ok, ${result.failures.length} failed`);
    if (result.failures.length > 0)
      console.log(
        agent
          .output()
          .split('\n')
          .filter((l) => /warn|drain|follow/.test(l))
          .join('\n'),
      );
    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThan(50);
    expect(result.bodies.at(-1)).toBe('v2');
    expect(result.bodies).toContain('v3');
    // Release #1's image was pruned, and its copy in the cluster registry with it; #2 and #3 stay.
    const tags = await until(registryTags, (t) => t.length === 2, "release #1's tag to leave the registry");
    expect(tags.map((t) => t.split('-')[0]).sort()).toEqual(['2', '3']);
    // Blue/green: each swap removed the previous release's service once it drained.
    await until(
      () => servicesOf(A),
      (s) => s.length === 1,
      'the old services to go',
    );
    expect((await servicesOf(A))[0]!.Spec.Name).toMatch(new RegExp(`^slipway-${A}-4-`));
  });

  test('scales down by draining: a smaller service takes over with no failed request', async () => {
    const load = constantLoad(`http://127.0.0.1:${agent.edgePort}/`, `${A}.localhost`, 4);
    const res = await agent.call('POST', `/v1/projects/${A}/scale`, { instances: 1 });
    expect(res.status).toBe(200);
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThan(10);
    await until(
      () => servicesOf(A),
      (s) => s.length === 1,
      'the 2-replica service to go',
    );
    expect((await servicesOf(A))[0]!.Spec.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(routeTargets(A)).toEqual(await taskTargets(A));
    expect(routeTargets(A)).toHaveLength(1);
  });

  test('replaces a task killed by hand, and the edge follows it to its new address', async () => {
    const scaled = await agent.call('POST', `/v1/projects/${A}/scale`, { instances: 2 });
    if (scaled.status !== 200)
      console.log(
        await scaled.text(),
        agent
          .output()
          .split('\n')
          .filter((l) => /"(warn|error)"/.test(l))
          .join('\n'),
      );
    expect(scaled.status).toBe(200);
    const before = await taskTargets(A);
    expect(routeTargets(A)).toEqual(before);
    const [service] = await servicesOf(A);
    const [victim] = (await swarm.manager.listTasks({
      filters: { service: [service!.ID], 'desired-state': ['running'] },
    })) as { NodeID: string; Status: { ContainerStatus: { ContainerID: string } } }[];
    const node = await engineOfNode(victim!.NodeID);
    await node.getContainer(victim!.Status.ContainerStatus.ContainerID).remove({ force: true });
    const after = await until(
      async () => ({ tasks: await taskTargets(A), route: routeTargets(A) }),
      (v) =>
        v.tasks.length === 2 &&
        JSON.stringify(v.tasks) === JSON.stringify(v.route) &&
        JSON.stringify(v.tasks) !== JSON.stringify(before),
      'the edge to route to the replacement task',
    );
    expect(after.route).toHaveLength(2);
    // The release was healed in place, not replaced by the reconciler.
    expect(await servicesOf(A)).toHaveLength(1);
    const load = constantLoad(`http://127.0.0.1:${agent.edgePort}/`, `${A}.localhost`, 2, 40);
    const result = await load.stop();
    expect(result.failures).toEqual([]);
  });

  test('fails a release whose process exits, with its exit code and last log lines, and leaves no service', async () => {
    const dockerfile = `FROM ${FIXTURE_IMAGES.SLIPWAY_IMAGE_STATIC}\nCMD ["sh", "-c", "echo boom from the app; exit 3"]\n`;
    const res = await agent.call(
      'POST',
      `/v1/projects/${B}/deployments`,
      new Uint8Array(tgzOf([{ name: 'Dockerfile', body: dockerfile }])),
      {
        'content-type': 'application/gzip',
      },
    );
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const failed = await waitForStatus(agent, B, id, ['live', 'failed'], 180_000);
    expect(failed.status).toBe('failed');
    expect(failed.failure_reason).toContain('exited with code 3');
    const log = await (await agent.call('GET', `/v1/projects/${B}/deployments/${id}/logs`)).text();
    expect(log).toContain('boom from the app');
    await until(
      () => servicesOf(B),
      (s) => s.length === 0,
      "the failed release's service to go",
    );
  });

  test("puts each project's service on its own network only, and its tasks cannot reach another project's", async () => {
    expect((await deploy(B, 'b1')).status).toBe('live');
    const [a] = await servicesOf(A);
    const [b] = await servicesOf(B);
    const networkName = async (id: string) => ((await swarm.manager.getNetwork(id).inspect()) as { Name: string }).Name;
    expect(await Promise.all(a!.Spec.TaskTemplate.Networks!.map((n) => networkName(n.Target!)))).toEqual([
      `slipway-${A}`,
    ]);
    expect(await Promise.all(b!.Spec.TaskTemplate.Networks!.map((n) => networkName(n.Target!)))).toEqual([
      `slipway-${B}`,
    ]);
    // From inside B's task: A's tasks by their overlay addresses, and A's service name, are out of reach.
    const aNet = (await swarm.manager.getNetwork(`slipway-${A}`).inspect()) as { Id: string };
    const aTasks = (await swarm.manager.listTasks({ filters: { service: [a!.ID], 'desired-state': ['running'] } })) as {
      NetworksAttachments?: { Network: { ID: string }; Addresses: string[] }[];
    }[];
    const aAddresses = aTasks.flatMap((t) =>
      (t.NetworksAttachments ?? []).filter((n) => n.Network.ID === aNet.Id).map((n) => n.Addresses[0]!.split('/')[0]!),
    );
    expect(aAddresses.length).toBeGreaterThan(0);
    const [bTask] = (await swarm.manager.listTasks({
      filters: { service: [b!.ID], 'desired-state': ['running'] },
    })) as {
      NodeID: string;
      Status: { ContainerStatus: { ContainerID: string } };
    }[];
    const bEngine = await engineOfNode(bTask!.NodeID);
    for (const target of [...aAddresses, a!.Spec.Name]) {
      const out = await httpGet(bEngine, bTask!.Status.ContainerStatus.ContainerID, target);
      expect(out).not.toContain('HTTP/1.');
    }
    // A control: inside A's own task, its sibling answers on the overlay.
    const [aTask] = (await swarm.manager.listTasks({
      filters: { service: [a!.ID], 'desired-state': ['running'] },
    })) as {
      NodeID: string;
      Status: { ContainerStatus: { ContainerID: string } };
    }[];
    const own = await httpGet(
      await engineOfNode(aTask!.NodeID),
      aTask!.Status.ContainerStatus.ContainerID,
      aAddresses[0]!,
    );
    expect(own).toStartWith('HTTP/1.1 200');
    expect(own).toEndWith('\r\n\r\nv2');
  });

  test('publishes no service on a fixed host port', async () => {
    for (const s of [...(await servicesOf(A)), ...(await servicesOf(B))]) {
      for (const port of s.Spec.EndpointSpec?.Ports ?? []) {
        expect(port.PublishMode).toBe('host');
        expect(port.PublishedPort ?? 0).toBe(0);
      }
    }
  });
});

/**
 * What `GET /` on `host:8080` answers from inside a container, by busybox nc (its wget crashes in
 * the nodes' namespaces); empty when nothing answers within 2 s.
 */
async function httpGet(docker: Docker, containerId: string, host: string): Promise<string> {
  const request = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 "$0" 8080`;
  return (await runCommand(docker, containerId, ['sh', '-c', request, host])).stdout;
}
