import type Docker from 'dockerode';
import type { NodeInfo, SwarmView, TaskInfo } from './tasks.ts';

/** The swarm's nodes by id. */
export async function nodesById(docker: Docker): Promise<Map<string, NodeInfo>> {
  const nodes = (await docker.listNodes()) as NodeInfo[];
  return new Map(nodes.map((n) => [n.ID, n]));
}

/** The tasks Swarm wants running for `serviceIds` (none asked: none returned). */
export async function runningTasks(docker: Docker, serviceIds: string[]): Promise<TaskInfo[]> {
  if (serviceIds.length === 0) return [];
  return (await docker.listTasks({
    filters: { service: serviceIds, 'desired-state': ['running'] },
  })) as TaskInfo[];
}

/** Which of `serviceIds` still exist. */
export async function existingServices(docker: Docker, serviceIds: string[]): Promise<Set<string>> {
  if (serviceIds.length === 0) return new Set();
  const found = (await docker.listServices({ filters: { id: serviceIds } })) as { ID: string }[];
  // The id filter matches prefixes: keep exact matches only.
  const wanted = new Set(serviceIds);
  return new Set(found.map((s) => s.ID).filter((id) => wanted.has(id)));
}

/** Everything `toInstances` needs about `serviceIds`, read in parallel. */
export async function swarmView(docker: Docker, serviceIds: string[], selfNode: string | null): Promise<SwarmView> {
  const [services, tasks, nodes] = await Promise.all([
    existingServices(docker, serviceIds),
    runningTasks(docker, serviceIds),
    nodesById(docker),
  ]);
  return { services, tasks, nodes, selfNode };
}

/** The node id of the engine Slipway talks to, or null when it is not in a swarm. */
export async function selfNodeId(docker: Docker): Promise<string | null> {
  const info = (await docker.info()) as { Swarm?: { NodeID?: string } };
  return info.Swarm?.NodeID || null;
}

/** Sets a service's replica count (only: image, env and limits never change on a release's service). */
export async function setReplicas(docker: Docker, serviceId: string, replicas: number): Promise<void> {
  const service = docker.getService(serviceId);
  const info = (await service.inspect()) as { Version: { Index: number }; Spec: Docker.ServiceSpec };
  await service.update({
    _query: { version: info.Version.Index },
    _body: { ...info.Spec, Mode: { Replicated: { Replicas: replicas } } },
  });
}

/** Task states in which a task's container may still run. */
const LIVE_STATES = new Set(['assigned', 'accepted', 'preparing', 'ready', 'starting', 'running']);

/** Waits until no task of the service may still run (a scale to 0 stops tasks asynchronously). */
export async function waitTasksGone(docker: Docker, serviceId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const tasks = (await docker.listTasks({ filters: { service: [serviceId] } })) as TaskInfo[];
    if (!tasks.some((t) => LIVE_STATES.has(t.Status?.State ?? ''))) return;
    await Bun.sleep(200);
  }
  throw new Error(`The tasks of service ${serviceId} did not stop within ${timeoutMs / 1000} s`);
}

/**
 * Waits until the engine Slipway talks to runs no container of the removed services any more
 * (Swarm removes them asynchronously, after their stop grace period), so that their images can be
 * pruned and their network removed; gives up quietly after `timeoutMs`.
 */
export async function waitContainersGone(docker: Docker, serviceIds: string[], timeoutMs: number): Promise<void> {
  if (serviceIds.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  const label = serviceIds.map((id) => `com.docker.swarm.service.id=${id}`);
  while (Date.now() < deadline) {
    const left = await Promise.all(
      label.map((l) => docker.listContainers({ all: true, filters: { label: [l] } }).then((c) => c.length)),
    );
    if (left.every((n) => n === 0)) return;
    await Bun.sleep(250);
  }
}
