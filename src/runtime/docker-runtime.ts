import { containerDatabases } from '../databases/store.ts';
import type Docker from 'dockerode';
import type { InstanceRepo } from '../db/instances.ts';
import { containerState, lastLogLines, waitReady } from './health.ts';
import { listInstances, removeInstances, startInstance, unrecordedContainers } from './instances.ts';
import { ensureProjectNetwork, removeProjectNetwork } from './network.ts';
import type { Instance, ListedInstance, Runtime } from './runtime.ts';
import type { Ipv4Range } from './subnets.ts';

/**
 * The runtime of one Docker engine: each instance is a container on it, published on 127.0.0.1,
 * recorded by container id in the instances table.
 */
export function dockerRuntime(
  docker: Docker,
  registry: InstanceRepo,
  agentId: string,
  subnets: Ipv4Range | null = null,
): Runtime {
  // One network made at a time, so that two deployments starting together do not pick one subnet.
  let making: Promise<unknown> = Promise.resolve();
  const ensureNetwork = (project: string) => {
    const made = making.then(() => ensureProjectNetwork(docker, project, subnets));
    making = made.catch(() => {});
    return made;
  };
  return {
    kind: 'docker',
    databases: containerDatabases(docker),
    followIntervalMs: null,
    heals: false,
    ensureNetwork,
    removeNetwork: (project) => removeProjectNetwork(docker, project),
    async start(spec, count) {
      const started = await Promise.allSettled(
        Array.from({ length: count }, () => startInstance(docker, registry, spec)),
      );
      const fresh = started
        .filter((s): s is PromiseFulfilledResult<Instance> => s.status === 'fulfilled')
        .map((s) => s.value);
      const failed = started.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
      if (!failed) return fresh;
      await removeInstances(
        docker,
        registry,
        fresh.map((i) => i.id),
        0,
      );
      throw failed.reason;
    },
    list: (project) => listInstances(docker, registry, project),
    remove: (ids, graceSeconds) => removeInstances(docker, registry, ids, graceSeconds),
    async stop(ids) {
      await Promise.all(
        ids.map((id) =>
          docker
            .getContainer(id)
            .stop({ t: 10 })
            .catch(() => {}),
        ),
      );
    },
    async resume(project, ids): Promise<ListedInstance[]> {
      await Promise.all(
        ids.map((id) =>
          docker
            .getContainer(id)
            .start()
            .catch(() => {}),
        ),
      );
      const wanted = new Set(ids);
      return (await listInstances(docker, registry, project)).filter((i) => wanted.has(i.id));
    },
    waitHealthy: (id, check) => waitReady(check, () => containerState(docker, id)),
    lastLogLines: (id, lines) => lastLogLines(docker, id, lines),
    // The engine's own image is the only copy; release/images.ts removes it.
    forgetImage: async () => {},
    async removeUnrecorded(graceSeconds) {
      const cutoff = Date.now() / 1000 - graceSeconds;
      const orphans = (await unrecordedContainers(docker, registry, agentId)).filter((c) => c.Created < cutoff);
      if (orphans.length > 0)
        await removeInstances(
          docker,
          registry,
          orphans.map((c) => c.Id),
          5,
        );
      return orphans.length;
    },
  };
}
