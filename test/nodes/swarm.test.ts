/**
 * GET /v1/nodes on the real single-node swarm of scripts/swarm-cluster.sh: the manager with its
 * address, resources and Slipway's tasks; a project-limited token sees only its projects' tasks.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type Docker from 'dockerode';
import { agentId } from '../../src/db/meta.ts';
import { appLabels, databaseLabels } from '../../src/runtime/labels.ts';
import type { NodeView } from '../../src/nodes/view.ts';
import { makeTestApp, TEST_ACTOR, type TestApp } from '../helpers/app.ts';
import { pushToClusterRegistry } from '../helpers/cluster-images.ts';
import { cleanupByLabel, requireDocker, testLabel } from '../helpers/docker.ts';
import { requireRoot } from '../helpers/root.ts';
import { ensureSwarmCluster } from '../helpers/swarm-cluster.ts';

const runnable = (await requireDocker()) && requireRoot('the swarm nodes tests');

describe.skipIf(!runnable)('the nodes of a swarm', () => {
  let t: TestApp;
  let docker: Docker;
  let managerId: string;
  const label = testLabel();
  const services: Record<string, string> = {};
  let databaseContainer = '';

  beforeAll(async () => {
    const cluster = ensureSwarmCluster(1);
    docker = cluster.manager;
    managerId = ((await docker.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID;
    const image = await pushToClusterRegistry(docker, 'slipway-fixture/static:latest', cluster.registry);
    t = makeTestApp({ SLIPWAY_RUNTIME: 'swarm' }, { docker });
    for (const name of ['north', 'south']) t.deps.projects.create(TEST_ACTOR, { name });
    const agent = agentId(t.deps.db);
    const start = async (key: string, agentOf: string, project: string) => {
      const labels = { ...appLabels(agentOf, { project, id: `dep_${key}`, number: 1 }), ...label };
      const created = (await docker.createService({
        Name: `slwnodes-${key}-${label['slipway.test'].slice(2, 10)}`,
        Labels: labels,
        TaskTemplate: {
          ContainerSpec: { Image: image, Command: ['sleep', '600'], Labels: labels },
          Placement: { Constraints: [`node.id==${managerId}`] },
        },
        Mode: { Replicated: { Replicas: 1 } },
      })) as { id: string };
      services[key] = created.id;
    };
    await start('north', agent, 'north');
    await start('south', agent, 'south');
    await start('stranger', 'agt_someone_else', 'north');
    await waitRunning(docker, Object.values(services));
    // A project's database as the database routes make it on Swarm today: a container on the manager.
    const dbLabels = databaseLabels(agent, 'south', { user: 'app', database: 'app', superuser: 'postgres' });
    databaseContainer = (
      await docker.createContainer({ Image: image, Cmd: ['true'], Labels: { ...dbLabels, ...label } })
    ).id;
  }, 120_000);

  afterAll(async () => {
    for (const id of Object.values(services))
      await docker
        .getService(id)
        .remove()
        .catch(() => {});
    if (docker) await cleanupByLabel(docker, label['slipway.test']);
    t?.close();
  });

  const nodes = async (token?: string): Promise<NodeView[]> => {
    const res = await t.req('GET', '/v1/nodes', { token });
    expect(res.status).toBe(200);
    return ((await res.json()) as { data: NodeView[] }).data;
  };

  test('lists every node of the swarm, the manager with its role, state, address and resources', async () => {
    const list = await nodes();
    expect(list.map((n) => n.id).sort()).toEqual(
      ((await docker.listNodes()) as { ID: string }[]).map((n) => n.ID).sort(),
    );
    const manager = list.find((n) => n.id === managerId)!;
    expect(manager).toMatchObject({
      hostname: 'slipway-sw0',
      role: 'manager',
      leader: true,
      availability: 'active',
      state: 'ready',
      address: '10.77.0.10',
    });
    expect(manager.engine_version).toMatch(/^\d+\.\d+/);
    expect(manager.resources.cpus).toBeGreaterThan(0);
    expect(manager.resources.memory_bytes).toBeGreaterThan(0);
  });

  test("shows this agent's tasks on the node they run on, with project, release and state, and no other agent's", async () => {
    const manager = (await nodes()).find((n) => n.id === managerId)!;
    const mine = manager.tasks.filter((task) =>
      ['dep_north', 'dep_south', 'dep_stranger'].includes(task.release ?? ''),
    );
    expect(mine.map((task) => [task.project, task.role, task.release, task.state]).sort()).toEqual([
      ['north', 'app', 'dep_north', 'running'],
      ['south', 'app', 'dep_south', 'running'],
    ]);
    expect(mine.every((task) => /^slwnodes-(north|south)-\w+\.1$/.test(task.service))).toBe(true);
  });

  test("shows the agent's database container among the manager's tasks, and each task once", async () => {
    const list = await nodes();
    const manager = list.find((n) => n.id === managerId)!;
    expect(manager.tasks.find((task) => task.id === databaseContainer)).toMatchObject({
      project: 'south',
      role: 'database',
      release: null,
      state: 'created',
    });
    const ids = list.flatMap((n) => n.tasks.map((task) => task.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("a project-limited token sees the nodes but never another project's tasks", async () => {
    const northOnly = t.token({ name: 'north-reader', scope: 'read', projects: ['north'] });
    const list = await nodes(northOnly);
    expect(list.length).toBeGreaterThan(0);
    const tasks = list.flatMap((n) => n.tasks);
    expect(tasks.some((task) => task.release === 'dep_north')).toBe(true);
    expect(tasks.every((task) => task.project === 'north')).toBe(true);
  });
});

async function waitRunning(docker: Docker, serviceIds: string[]): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const tasks = (await docker.listTasks({ filters: { service: serviceIds, 'desired-state': ['running'] } })) as {
      ServiceID: string;
      Status: { State: string };
    }[];
    if (serviceIds.every((id) => tasks.some((task) => task.ServiceID === id && task.Status.State === 'running')))
      return;
    await Bun.sleep(200);
  }
  throw new Error('the test services did not start within 60 s');
}
