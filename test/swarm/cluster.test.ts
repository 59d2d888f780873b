/**
 * The multi-node verification, on a real three-node swarm built on this machine
 * (scripts/swarm-cluster.sh: a manager and two workers, each its own dockerd in its own network
 * namespace): a real agent with SLIPWAY_RUNTIME=swarm on the manager's engine deploys the static
 * site with 3 instances across the nodes, swaps releases under constant load, and keeps serving
 * while a worker dies and Swarm moves its task.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type Docker from 'dockerode';
import { retireAgent, startAgent, viaEdge, waitForStatus, type Agent } from '../helpers/agent.ts';
import { runCommand } from '../../src/databases/exec.ts';
import { tgzOf } from '../helpers/archives.ts';
import { requireDocker } from '../helpers/docker.ts';
import { constantLoad, fixtureTgz } from '../helpers/fixtures.ts';
import { ensureSwarmCluster, removeSwarmLeftovers, type SwarmCluster, swarmScript } from '../helpers/swarm-cluster.ts';

const P = `cl-${crypto.randomUUID().slice(0, 6)}`;
const HOST = `${P}.localhost`;
/** A second project, with a database. */
const Q = `cd-${crypto.randomUUID().slice(0, 6)}`;
const LOAD_CONCURRENCY = 4;
const hasDocker = await requireDocker();
let swarm: SwarmCluster;
let agent: Agent;
/** The workers this file killed and has not revived yet, brought back in afterAll. */
const killed = new Set<number>();

beforeAll(async () => {
  if (!hasDocker) return;
  swarm = ensureSwarmCluster(3);
  agent = await startAgent({
    env: {
      DOCKER_HOST: swarm.managerHost,
      SLIPWAY_RUNTIME: 'swarm',
      SLIPWAY_SWARM_REGISTRY: swarm.registry,
      SLIPWAY_DRAIN_TIMEOUT: '3',
      // Two releases kept for rollbacks, so that the swaps below prune the cluster registry.
      SLIPWAY_RELEASE_RETENTION: '2',
    },
  });
  expect((await agent.call('POST', '/v1/projects', { name: P, instances: 3 })).status).toBe(201);
  expect(
    (await agent.call('POST', '/v1/projects', { name: Q, instances: 3, health_check_path: '/health' })).status,
  ).toBe(201);
}, 300_000);

afterAll(async () => {
  // Only what beforeAll got to: a failed set-up is its own failure, not a second one here.
  if (!swarm) return;
  for (const node of killed) swarmScript('start-node', String(node));
  if (agent) {
    await agent.call('DELETE', `/v1/projects/${Q}?confirm=${Q}`).catch(() => {});
    await retireAgent(agent, [P, Q]);
  }
  // What the agent left, if a test failed half-way: services and networks on the manager,
  // containers and images on every node.
  for (const project of [P, Q]) await removeSwarmLeftovers(swarm, project);
  // The revived worker is Ready again for the next file.
  if (killed.size > 0) swarmScript('up', '3');
}, 120_000);

async function deploy(body: string): Promise<{ id: string; status: string; failure_reason: string | null }> {
  const res = await agent.call(
    'POST',
    `/v1/projects/${P}/deployments`,
    new Uint8Array(tgzOf([{ name: 'index.html', body }])),
    { 'content-type': 'application/gzip' },
  );
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  return waitForStatus(agent, P, id, ['live', 'failed', 'canceled'], 180_000) as never;
}

interface RunningTask {
  nodeId: string;
  containerId: string;
  /** The node's index in the cluster (slipway.cluster.node). */
  node: number;
  /** `node address:published port`. */
  target: string;
}

/** The running tasks of the project's newest release service, with their nodes. */
async function liveTasks(project = P): Promise<RunningTask[]> {
  const services = (await swarm.manager.listServices({
    filters: { label: [`slipway.project=${project}`, 'slipway.role=app'] },
  })) as { ID: string; CreatedAt: string }[];
  const newest = services.sort((a, b) => a.CreatedAt.localeCompare(b.CreatedAt)).at(-1);
  if (!newest) return [];
  const nodes = new Map(
    (
      (await swarm.manager.listNodes()) as {
        ID: string;
        Status: { Addr: string };
        Spec: { Labels: Record<string, string> };
      }[]
    ).map((n) => [n.ID, { addr: n.Status.Addr, index: Number(n.Spec.Labels['slipway.cluster.node']) }]),
  );
  const tasks = (await swarm.manager.listTasks({
    filters: { service: [newest.ID], 'desired-state': ['running'] },
  })) as {
    NodeID: string;
    Status: {
      State: string;
      ContainerStatus?: { ContainerID: string };
      PortStatus?: { Ports?: { PublishedPort: number }[] };
    };
  }[];
  return tasks
    .filter((t) => t.Status.State === 'running')
    .map((t) => ({
      nodeId: t.NodeID,
      containerId: t.Status.ContainerStatus?.ContainerID ?? '',
      node: nodes.get(t.NodeID)?.index ?? -1,
      target: `${nodes.get(t.NodeID)?.addr}:${t.Status.PortStatus?.Ports?.[0]?.PublishedPort}`,
    }));
}

async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await Bun.sleep(250);
  }
}

const nodeState = async (docker: Docker, index: number) => {
  const nodes = (await docker.listNodes()) as { Status: { State: string }; Spec: { Labels: Record<string, string> } }[];
  return nodes.find((n) => n.Spec.Labels['slipway.cluster.node'] === String(index))?.Status.State;
};

describe.skipIf(!hasDocker)('Slipway on a three-node swarm', () => {
  test('spreads the static site over the three nodes, each task answering at its node address', async () => {
    expect((await deploy('v1')).status).toBe('live');
    const tasks = await until(liveTasks, (t) => t.length === 3, '3 running tasks');
    expect(tasks.map((t) => t.node).sort()).toEqual([0, 1, 2]);
    for (const t of tasks) {
      expect(t.target).toStartWith(`${swarm.nodes[t.node]!.address}:`);
      expect(await (await fetch(`http://${t.target}/`)).text()).toBe('v1');
    }
    for (let i = 0; i < 6; i++) expect(await (await viaEdge(agent.edgePort!, HOST)).text()).toBe('v1');
    // GET /v1/nodes shows the three nodes ready, each running one of P's tasks.
    const nodes = (await (await agent.call('GET', '/v1/nodes')).json()) as {
      data: { hostname: string; role: string; state: string; address: string; tasks: { project: string }[] }[];
    };
    expect(
      nodes.data
        .map((n) => [n.hostname, n.role, n.state, n.address, n.tasks.filter((t) => t.project === P).length])
        .sort(),
    ).toEqual(
      swarm.nodes.map((n) => [`slipway-sw${n.index}`, n.index === 0 ? 'manager' : 'worker', 'ready', n.address, 1]),
    );
  }, 240_000);

  test('serves every request during 3 redeploys and a rollback', async () => {
    const load = constantLoad(`http://127.0.0.1:${agent.edgePort}/`, HOST, LOAD_CONCURRENCY);
    for (const v of ['v2', 'v3', 'v4']) expect((await deploy(v)).status).toBe('live');
    const rollback = await agent.call('POST', `/v1/projects/${P}/rollback`, {});
    expect(rollback.status).toBe(202);
    const { id } = (await rollback.json()) as { id: string };
    expect((await waitForStatus(agent, P, id, ['live', 'failed'], 180_000)).status).toBe('live');
    await until(
      async () => (await viaEdge(agent.edgePort!, HOST)).text(),
      (body) => body === 'v3',
      'the edge to serve the rollback',
      10_000,
    );
    await Bun.sleep(300);
    const result = await load.stop();
    console.log(`swarm cluster: load during 4 swaps: ${result.ok} ok, ${result.failures.length} failed`);
    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThan(50);
    // Each release in turn (in-flight answers of the old one may land after the new one's first).
    expect(result.bodies.filter((b, i) => result.bodies.indexOf(b) === i)).toEqual(['v1', 'v2', 'v3', 'v4']);
    expect(result.bodies.at(-1)).toBe('v3');
    const tasks = await until(liveTasks, (t) => t.length === 3, '3 running tasks of the rollback');
    expect(new Set(tasks.map((t) => t.node)).size).toBe(3);
    // The cluster registry holds the two releases rollbacks may need (#4, and #3 which #5 runs), no more.
    const list = (await (await agent.call('GET', `/v1/projects/${P}/deployments`)).json()) as {
      data: { number: number; image: { tag: string } | null }[];
    };
    const tagOf = (n: number) => list.data.find((d) => d.number === n)!.image!.tag.split(':')[1]!;
    const kept = [tagOf(3), tagOf(4)].sort();
    // Pruned once the old release has drained, after the rollback went live.
    await until(
      () => registryTags(P),
      (tags) => JSON.stringify(tags) === JSON.stringify(kept),
      'the registry to hold only the kept releases',
      30_000,
    );
  }, 600_000);

  test('a database on one node answers the app on every node, and no other project', async () => {
    const created = await agent.call('POST', `/v1/projects/${Q}/deployments`, new Uint8Array(fixtureTgz('pg-app')), {
      'content-type': 'application/gzip',
    });
    const first = ((await created.json()) as { id: string }).id;
    expect((await waitForStatus(agent, Q, first, ['live', 'failed'], 180_000)).status).toBe('live');
    const res = await agent.call('POST', `/v1/projects/${Q}/database`);
    expect(res.status).toBe(201);
    const { deployment } = (await res.json()) as { deployment: { id: string } };
    expect((await waitForStatus(agent, Q, deployment.id, ['live', 'failed'], 180_000)).status).toBe('live');
    // The database is a one-replica service pinned to the manager; its task runs there, on Q's
    // overlay network only.
    const [service, ...others] = await swarm.manager.listServices({ filters: { name: [`slipway-${Q}-db`] } });
    expect(others).toEqual([]);
    expect(service!.Spec?.TaskTemplate?.Placement?.Constraints).toEqual([
      `node.id==${(await swarm.manager.info()).Swarm.NodeID}`,
    ]);
    const [found, ...more] = await swarm.manager.listContainers({
      filters: { label: [`com.docker.swarm.service.id=${service!.ID}`] },
    });
    expect(more).toEqual([]);
    const db = await swarm.manager.getContainer(found!.Id).inspect();
    expect(Object.keys(db.NetworkSettings.Networks)).toEqual([`slipway-${Q}`]);
    expect(db.HostConfig.PortBindings ?? {}).toEqual({});
    const dbAddress = db.NetworkSettings.Networks[`slipway-${Q}`]!.IPAddress;
    // Q's three tasks, one per node, each run SELECT 1 across the overlay.
    const tasks = await until(
      () => liveTasks(Q),
      (t) => t.length === 3,
      `3 running tasks of ${Q}`,
    );
    expect(tasks.map((t) => t.node).sort()).toEqual([0, 1, 2]);
    for (const t of tasks) expect(await (await fetch(`http://${t.target}/`)).text()).toBe('1');
    const worker = tasks.find((t) => t.node !== 0)!;
    const reach = async (task: RunningTask, host: string) =>
      (
        await runCommand(swarm.nodes[task.node]!.docker, task.containerId, [
          'sh',
          '-c',
          `nc -w 2 ${host} 5432 </dev/null; echo "exit $?"`,
        ])
      ).stdout.trim();
    expect(await reach(worker, dbAddress)).toBe('exit 0');
    // From P's tasks on every node: neither the database's address nor its name leads anywhere.
    for (const t of await liveTasks(P)) {
      expect(await reach(t, dbAddress)).toMatch(/^exit [1-9][0-9]*$/);
      expect(await reach(t, `slipway-${Q}-db`)).toMatch(/^exit [1-9][0-9]*$/);
    }
  }, 300_000);

  test("keeps serving without a failed request when a worker's engine dies, and Swarm moves its task", async () => {
    const victim = (await liveTasks()).find((t) => t.node !== 0)!.node;
    const load = constantLoad(`http://127.0.0.1:${agent.edgePort}/`, HOST, LOAD_CONCURRENCY);
    await Bun.sleep(500);
    // Only dockerd dies: the node's containers keep running until Swarm has replaced them.
    swarmScript('stop-engine', String(victim));
    killed.add(victim);
    const movedAfter = await rescheduledAway(victim);
    const nodes = (await (await agent.call('GET', '/v1/nodes')).json()) as {
      data: { hostname: string; state: string }[];
    };
    expect(nodes.data.find((n) => n.hostname === `slipway-sw${victim}`)?.state).toBe('down');
    const result = await load.stop();
    console.log(
      `swarm cluster: engine of node ${victim} killed; task moved after ${movedAfter} ms; load: ${result.ok} ok, ${result.failures.length} failed`,
    );
    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThan(50);
    expect(result.bodies.at(-1)).toBe('v3');
    // The engine comes back, rejoins, and its orphaned task is stopped rather than served.
    swarmScript('start-node', String(victim));
    swarmScript('up', '3');
    killed.delete(victim);
    await until(
      () => nodeState(swarm.manager, victim),
      (s) => s === 'ready',
      `node ${victim} to be ready again`,
    );
  }, 240_000);

  test('loses at most the requests in flight on a worker that dies whole, and Swarm moves its task', async () => {
    const victim = (await liveTasks()).find((t) => t.node !== 0)!.node;
    const logFrom = agent.output().length;
    const load = constantLoad(`http://127.0.0.1:${agent.edgePort}/`, HOST, LOAD_CONCURRENCY);
    await Bun.sleep(500);
    // Everything of the node dies at once: dockerd, containerd, the tasks (a machine failure).
    swarmScript('stop-node', String(victim));
    killed.add(victim);
    const movedAfter = await rescheduledAway(victim);
    const result = await load.stop();
    console.log(
      `swarm cluster: node ${victim} died; task moved after ${movedAfter} ms; load: ${result.ok} ok, ${result.failures.length} failed; the edge's reasons:\n${edgeFailures(logFrom)}`,
    );
    expect(result.failures.length).toBeLessThanOrEqual(LOAD_CONCURRENCY);
    expect(result.ok).toBeGreaterThan(50);
    expect(result.bodies.at(-1)).toBe('v3');
  }, 240_000);

  test('deleting a project deletes its release images from the cluster registry', async () => {
    expect((await registryTags(P)).length).toBeGreaterThan(0);
    expect((await agent.call('DELETE', `/v1/projects/${P}`)).status).toBe(204);
    expect(await registryTags(P)).toEqual([]);
  }, 60_000);
});

/**
 * Waits until the manager sees node `victim` down and the live release has its 3 tasks running
 * elsewhere, each answering at its new address and the edge serving; returns the milliseconds it took.
 */
async function rescheduledAway(victim: number): Promise<number> {
  const started = Date.now();
  await until(
    () => nodeState(swarm.manager, victim),
    (s) => s === 'down',
    `node ${victim} to be down`,
  );
  const moved = await until(
    liveTasks,
    (t) => t.length === 3 && t.every((task) => task.node !== victim),
    'the task to be rescheduled on the living nodes',
  );
  // A task is `running` before its app listens: the replacement is asked until it answers.
  for (const t of moved) {
    const answer = () => fetch(`http://${t.target}/`).then((r) => r.text(), String);
    expect(await until(answer, (body) => body === 'v3', `${t.target} to answer`, 30_000)).toBe('v3');
  }
  await Bun.sleep(1000);
  return Date.now() - started;
}

/** The edge's log lines about requests it could not proxy, from offset `from` of the agent's output. */
function edgeFailures(from: number): string {
  const lines = agent.output().slice(from).split('\n');
  return lines.filter((line) => line.includes('Proxying a request failed')).join('\n');
}

/** The tags of the project's repository in the cluster registry. */
async function registryTags(project: string): Promise<string[]> {
  const res = await fetch(`http://${swarm.registry}/v2/slipway/${project}/tags/list`);
  if (res.status === 404) return [];
  return (((await res.json()) as { tags: string[] | null }).tags ?? []).sort();
}
