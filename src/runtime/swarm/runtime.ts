import type Docker from 'dockerode';
import type { RuntimeDeps } from '../choose.ts';
import { swarmDatabases } from './database-store.ts';
import { demux, waitReady, type InstanceState } from '../health.ts';
import { labelFilter } from '../labels.ts';
import { networkName } from '../network.ts';
import type { ListedInstance, ReleaseSpec, Runtime } from '../runtime.ts';
import { kernelHasEsp } from './ipsec.ts';
import { ensureOverlayNetwork } from './network.ts';
import { releaseServiceSpec, REPLICAS_LABEL, STOP_GRACE_SECONDS, serviceName } from './service-spec.ts';
import { selfNodeId, setReplicas, swarmView, waitContainersGone, waitTasksGone } from './swarm-client.ts';
import { parseInstanceId, toInstances } from './tasks.ts';
import { waitStarted } from './wait-started.ts';

/** How long a release's tasks get to be scheduled, pull their image and run. */
const START_TIMEOUT_MS = 5 * 60_000;

/** How often the live release's task addresses are re-read (see release/follow.ts). */
const FOLLOW_INTERVAL_MS = 1500;

/**
 * The Swarm runtime: each release is its own replicated service (blue/green; a release's service
 * is never updated except for its replica count during a hand-off), recorded by service id in the
 * instances table. An instance is one task, `<service id>/<task id>`; its edge target is its
 * node's address and the task's published host port.
 */
export function swarmRuntime(d: RuntimeDeps): Runtime {
  const { docker, records: registry, log } = d;
  let self: Promise<string | null> | null = null;
  const selfNode = () => (self ??= selfNodeId(docker));
  let encrypted: boolean | null = null;
  const services = (ids: string[]) => [...new Set(ids.map((id) => parseInstanceId(id).serviceId))];

  const list = async (project: { id: string; name: string }): Promise<ListedInstance[]> => {
    const rows = registry.ofProject(project.id);
    const view = await swarmView(
      docker,
      rows.map((r) => r.container_id),
      await selfNode(),
    );
    return toInstances(rows, project.name, view);
  };

  return {
    kind: 'swarm',
    databases: swarmDatabases(docker),
    followIntervalMs: FOLLOW_INTERVAL_MS,
    heals: true,
    ensureNetwork(project) {
      if (encrypted === null) {
        encrypted = d.encryptOverlay ?? kernelHasEsp();
        if (!encrypted) log.warn('the kernel has no ESP (IPsec): project overlay networks are not encrypted');
      }
      return ensureOverlayNetwork(docker, project, encrypted, log);
    },
    removeNetwork: (project) => removeNetwork(docker, networkName(project)),
    start: (spec, count) => start(d, spec, count, selfNode),
    list,
    async remove(ids) {
      const gone = services(ids);
      for (const id of gone) {
        await docker
          .getService(id)
          .remove()
          .catch((err: { statusCode?: number }) => {
            if (err.statusCode !== 404) throw err;
          });
        registry.forget(id);
      }
      await waitContainersGone(docker, gone, (STOP_GRACE_SECONDS + 5) * 1000);
    },
    async stop(ids) {
      for (const id of services(ids)) {
        await setReplicas(docker, id, 0);
        // A hand-off starts the next release only once these stopped writing to the volumes.
        await waitTasksGone(docker, id, (STOP_GRACE_SECONDS + 10) * 1000);
      }
    },
    async resume(project, ids) {
      const wanted = services(ids);
      for (const id of wanted) {
        const info = (await docker.getService(id).inspect()) as {
          Spec: { Name: string; Labels?: Record<string, string> };
        };
        const replicas = Number(info.Spec.Labels?.[REPLICAS_LABEL] ?? 1);
        await setReplicas(docker, id, replicas);
        await waitStarted(docker, { id, name: info.Spec.Name }, replicas, START_TIMEOUT_MS);
      }
      return (await list(project)).filter((i) => wanted.includes(parseInstanceId(i.id).serviceId));
    },
    waitHealthy: (id, check) => waitReady(check, () => taskState(docker, parseInstanceId(id).taskId)),
    lastLogLines: (id, lines = 20) => taskLogLines(docker, id, lines),
    async forgetImage(project, imageTag, kept) {
      await d.unpublishImage?.(project, imageTag, kept).catch((err) =>
        log.warn('removing a release image from the cluster registry failed', {
          project,
          imageTag,
          error: String(err),
        }),
      );
    },
    async removeUnrecorded(graceSeconds) {
      const recorded = registry.ids();
      const cutoff = Date.now() - graceSeconds * 1000;
      const labelled = (await docker.listServices({
        filters: { label: labelFilter({ role: 'app', agent: d.agentId }) },
      })) as { ID: string; CreatedAt?: string }[];
      const orphans = labelled.filter((s) => !recorded.has(s.ID) && Date.parse(s.CreatedAt ?? '') < cutoff);
      for (const s of orphans)
        await docker
          .getService(s.ID)
          .remove()
          .catch(() => {});
      return orphans.length;
    },
  };
}

/** Creates and records a release's service, then waits for its tasks; if they fail, removes it. */
async function start(d: RuntimeDeps, spec: ReleaseSpec, count: number, selfNode: () => Promise<string | null>) {
  const image = d.publishImage ? await d.publishImage(spec) : spec.image;
  const name = serviceName(spec.project, spec.number, crypto.randomUUID().slice(0, 8));
  // Named volumes live on one node: a release that mounts them runs where they are, on the manager.
  const pinnedNode = spec.mounts && spec.mounts.length > 0 ? await selfNode() : null;
  const created = (await d.docker.createService(releaseServiceSpec(name, spec, image, count, { pinnedNode }))) as {
    id: string;
  };
  d.records.record({
    container_id: created.id,
    name,
    project_id: spec.projectId,
    deployment_id: spec.deploymentId,
    image_id: image,
    created_at: new Date().toISOString(),
  });
  try {
    return await waitStarted(d.docker, { id: created.id, name }, count, START_TIMEOUT_MS);
  } catch (err) {
    await d.docker
      .getService(created.id)
      .remove()
      .catch(() => {});
    d.records.forget(created.id);
    throw err;
  }
}

/** A task's state for the health gate: running, or ended with its exit code. */
async function taskState(docker: Docker, taskId: string): Promise<InstanceState> {
  const task = (await docker
    .getTask(taskId)
    .inspect()
    .catch((err: { statusCode?: number }) => {
      // A task removed with its service has ended too.
      if (err.statusCode === 404) return {};
      throw err;
    })) as { DesiredState?: string; Status?: { State?: string; ContainerStatus?: { ExitCode?: number } } };
  const running = task.Status?.State === 'running' && task.DesiredState === 'running';
  return { running, oomKilled: false, exitCode: task.Status?.ContainerStatus?.ExitCode ?? -1 };
}

/** The last lines a task logged (through the manager, whichever node it ran on). */
async function taskLogLines(docker: Docker, id: string, lines: number): Promise<string[]> {
  const { serviceId, taskId } = parseInstanceId(id);
  try {
    const opts = { stdout: true, stderr: true, tail: lines, follow: false };
    const raw = (await (taskId ? taskLogs(docker, taskId, opts) : docker.getService(serviceId).logs(opts))) as Buffer;
    return demux(raw)
      .split('\n')
      .filter((l) => l !== '');
  } catch {
    return [];
  }
}

/** GET /tasks/{id}/logs (dockerode has it; its types do not). */
function taskLogs(docker: Docker, taskId: string, opts: object): Promise<unknown> {
  return (docker.getTask(taskId) as unknown as { logs(o: object): Promise<unknown> }).logs(opts);
}

/** Removes an overlay network once the tasks of removed services have left it (they stop asynchronously). */
async function removeNetwork(docker: Docker, name: string): Promise<void> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const gone = await docker
      .getNetwork(name)
      .remove()
      .then(
        () => true,
        (err: { statusCode?: number }) => err.statusCode === 404,
      );
    if (gone) return;
    await Bun.sleep(500);
  }
}
