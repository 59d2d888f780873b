/**
 * The swarm runtime's own contract on a real swarm, without an agent: what a failed start leaves
 * (nothing), what the health gate says about a crashing task and its logs, the hand-off's
 * stop/resume, and the clean-up of services Slipway never recorded. Tasks run a fixture image
 * every node has, by id, so that no registry is involved.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type Docker from 'dockerode';
import { instanceRepo } from '../../../src/db/instances.ts';
import { openDatabase } from '../../../src/db/open.ts';
import { InstanceExited } from '../../../src/deployments/failures.ts';
import { createLogger } from '../../../src/log.ts';
import { appLabels } from '../../../src/runtime/labels.ts';
import type { ReleaseSpec, Runtime } from '../../../src/runtime/runtime.ts';
import { swarmRuntime } from '../../../src/runtime/swarm/runtime.ts';
import { requireDocker } from '../../helpers/docker.ts';
import { ensureSwarmCluster } from '../../helpers/swarm-cluster.ts';
import { engineOfNode } from './node-engines.ts';

const P = `swr-${crypto.randomUUID().slice(0, 6)}`;
const AGENT = `agent-${P}`;
const hasDocker = await requireDocker();
let docker: Docker;
let runtime: Runtime;
let records: ReturnType<typeof instanceRepo>;
let spec: ReleaseSpec;
const project = { id: 'p1', name: P };

beforeAll(async () => {
  if (!hasDocker) return;
  docker = ensureSwarmCluster(1).manager;
  const db = openDatabase(':memory:');
  db.pragma('foreign_keys = OFF');
  records = instanceRepo(db);
  runtime = swarmRuntime({ docker, records, agentId: AGENT, log: createLogger('error') });
  const image = ((await docker.getImage('slipway-fixture/static:latest').inspect()) as { Id: string }).Id;
  spec = {
    agentId: AGENT,
    project: P,
    projectId: project.id,
    deploymentId: 'd1',
    number: 1,
    image,
    imageTag: null,
    network: await runtime.ensureNetwork(P),
    port: 8080,
    env: {},
    memoryMb: 64,
    cpus: 0.25,
  };
});

afterAll(async () => {
  // Only what beforeAll got to: a failed set-up is its own failure, not a second one here.
  if (!runtime) return;
  for (const s of await docker.listServices({ filters: { label: [`slipway.project=${P}`] } }))
    await docker
      .getService(s.ID)
      .remove()
      .catch(() => {});
  await runtime.removeNetwork(P);
});

const ids = (xs: { id: string }[]) => xs.map((x) => x.id);

describe.skipIf(!hasDocker)('the swarm runtime on its own', () => {
  test('a release whose image no node has fails to start and leaves no service and no record', async () => {
    const missing = { ...spec, image: 'sha256:0000000000000000000000000000000000000000000000000000000000000000' };
    await expect(runtime.start(missing, 1)).rejects.toThrow(/A task of slipway-swr-.* (rejected|failed)/);
    expect(records.ofProject(project.id)).toEqual([]);
    expect(await docker.listServices({ filters: { label: [`slipway.project=${P}`] } })).toEqual([]);
  });

  test('the health gate stops waiting as soon as the task it checks is gone', async () => {
    const [instance] = await runtime.start(spec, 1);
    const gate = runtime.waitHealthy(instance!.id, {
      target: instance!.target,
      // The fixture serves no such page: only the task's end can stop the gate early.
      path: '/never-there',
      timeoutMs: 60_000,
      signal: new AbortController().signal,
    });
    // Settled from the start: the gate may end before the test gets to await it.
    const outcome = gate.then(
      () => null,
      (err: unknown) => err,
    );
    const started = Date.now();
    const [task] = (await docker.listTasks({ filters: { id: [instance!.id.split('/')[1]!] } })) as {
      NodeID: string;
      Status: { ContainerStatus: { ContainerID: string } };
    }[];
    await killContainer(task!.NodeID, task!.Status.ContainerStatus.ContainerID);
    expect(await outcome).toBeInstanceOf(InstanceExited);
    expect(Date.now() - started).toBeLessThan(20_000);
    await runtime.remove([instance!.id], 0);
    expect(records.ofProject(project.id)).toEqual([]);
  });

  test('a hand-off stops a release without removing it, and resumes it at its size', async () => {
    const started = await runtime.start(spec, 2);
    await runtime.stop(ids(started));
    const stopped = await runtime.list(project);
    expect(stopped.map((i) => i.state)).toEqual(['missing']);
    for (const i of started) expect(await answers(i.target)).toBe(false);
    const back = await runtime.resume(project, ids(started));
    expect(back).toHaveLength(2);
    for (const i of back) {
      expect(i.state).toBe('running');
      expect(await answers(i.target!)).toBe(true);
    }
    await runtime.remove(ids(back), 0);
    expect(await runtime.list(project)).toEqual([]);
  });

  test("removes this agent's release services it never recorded, and no one else's", async () => {
    const [kept] = await runtime.start(spec, 1);
    const create = (agent: string, name: string) =>
      docker.createService({
        Name: name,
        Labels: appLabels(agent, { project: P, id: 'd9', number: 9 }),
        TaskTemplate: { ContainerSpec: { Image: spec.image } },
        Mode: { Replicated: { Replicas: 0 } },
      });
    const stray = (await create(AGENT, `${P}-stray`)) as { id: string };
    const foreign = (await create('another-agent', `${P}-foreign`)) as { id: string };
    expect(await runtime.removeUnrecorded(3600)).toBe(0);
    expect(await runtime.removeUnrecorded(0)).toBe(1);
    const left = (await docker.listServices({ filters: { label: [`slipway.project=${P}`] } })).map((s) => s.ID);
    expect(left).not.toContain(stray.id);
    expect(left).toContain(foreign.id);
    expect(left).toContain(kept!.id.split('/')[0]!);
    await docker.getService(foreign.id).remove();
    await runtime.remove([kept!.id], 0);
  });
});

/** Whether a task's published port answers HTTP. */
async function answers(target: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${target}/`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** Removes a task's container on whichever node runs it, as a crash would. */
async function killContainer(nodeId: string, containerId: string): Promise<void> {
  await (await engineOfNode(nodeId)).getContainer(containerId).remove({ force: true });
}
