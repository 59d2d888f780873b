import { containerDatabases } from '../databases/store.ts';
import type Docker from 'dockerode';
import type { InstanceRepo } from '../db/instances.ts';
import { containerState, lastLogLines, waitReady } from './health.ts';
import { removeHolders } from './holder.ts';
import { HolderPool } from './holder-pool.ts';
import { listInstances, removeInstances, startInstance, unrecordedContainers, unrecordedHolders } from './instances.ts';
import { ensureProjectNetwork, removeProjectNetwork } from './network.ts';
import type { Instance, ListedInstance, ReleaseSpec, Runtime } from './runtime.ts';
import type { Ipv4Range } from './subnets.ts';

/**
 * The runtime of one Docker engine: each instance is a container on it, published on 127.0.0.1,
 * recorded by container id in the instances table. A release's containers join network holders
 * made while its image was built (holder.ts), where there are any for its port.
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
  const holders = new HolderPool(docker);
  const startOne = async (spec: ReleaseSpec): Promise<Instance> => {
    const holder = await holders.take(spec);
    if (holder === null) return startInstance(docker, registry, spec);
    try {
      return await startInstance(docker, registry, spec, holder);
    } catch {
      // The holder may have gone meanwhile (removed by hand, the engine restarted): once more without.
      await removeHolders(docker, [holder]).catch(() => {});
      return startInstance(docker, registry, spec);
    }
  };
  return {
    kind: 'docker',
    databases: containerDatabases(docker),
    followIntervalMs: null,
    heals: false,
    ensureNetwork,
    async removeNetwork(project) {
      await holders.drop(project);
      await removeProjectNetwork(docker, project);
    },
    prepare: (spec, count) => holders.prepare(spec, count),
    async start(spec, count) {
      const started = await Promise.allSettled(Array.from({ length: count }, () => startOne(spec)));
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
      // Holders whose app container is gone unrecorded, or made ahead by an agent that stopped since.
      const idle = (await unrecordedHolders(docker, registry, agentId)).filter(
        (c) => c.Created < cutoff && !holders.has(c.Id),
      );
      await removeHolders(
        docker,
        idle.map((c) => c.Id),
      );
      return orphans.length + idle.length;
    },
  };
}
