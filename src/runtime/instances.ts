import type Docker from 'dockerode';
import type { InstanceRepo } from '../db/instances.ts';
import { appLabels, labelFilter } from './labels.ts';
import { stateOf } from './health.ts';
import type { Instance, ListedInstance, ReleaseSpec } from './runtime.ts';

/** Capabilities app containers keep; everything else is dropped. These are what common images
 * need to drop root at start (chown their files, switch user) and to bind ports below 1024. */
export const KEPT_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID', 'NET_BIND_SERVICE'];

/** The most processes one app container may run. */
export const PIDS_LIMIT = 512;

/** What one app instance runs. */
export type InstanceSpec = ReleaseSpec;

/**
 * Creates and starts one app container with Slipway's safe defaults: its port published only
 * on 127.0.0.1 (random host port), no new privileges, a short capability list, pid, memory and
 * CPU limits, rotated json-file logs, restart unless stopped, on the project's own network. The
 * container is recorded in `registry` as soon as it exists, so it is Slipway's by id, not by label.
 */
export async function startInstance(docker: Docker, registry: InstanceRepo, spec: InstanceSpec): Promise<Instance> {
  const name = `slipway-${spec.project}-${spec.number}-${crypto.randomUUID().slice(0, 8)}`;
  const portKey = `${spec.port}/tcp`;
  const container = await docker.createContainer({
    name,
    Image: spec.image,
    Env: Object.entries({ ...spec.env, PORT: String(spec.port) }).map(([k, v]) => `${k}=${v}`),
    Labels: appLabels(spec.agentId, { project: spec.project, id: spec.deploymentId, number: spec.number }),
    ExposedPorts: { [portKey]: {} },
    HostConfig: {
      PortBindings: { [portKey]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
      NetworkMode: spec.network,
      Mounts: spec.mounts ?? [],
      Memory: spec.memoryMb * 1024 * 1024,
      MemorySwap: spec.memoryMb * 1024 * 1024,
      NanoCpus: Math.round(spec.cpus * 1e9),
      PidsLimit: PIDS_LIMIT,
      SecurityOpt: ['no-new-privileges'],
      CapDrop: ['ALL'],
      CapAdd: KEPT_CAPABILITIES,
      Privileged: false,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      RestartPolicy: { Name: 'unless-stopped' },
      // A tiny init as PID 1 forwards SIGTERM to apps started through a shell and reaps zombies.
      Init: true,
    },
  });
  try {
    // An image given by id is the one the container runs; a tag is resolved by the engine.
    const imageId = spec.image.startsWith('sha256:') ? spec.image : (await container.inspect()).Image;
    registry.record({
      container_id: container.id,
      name,
      project_id: spec.projectId,
      deployment_id: spec.deploymentId,
      image_id: imageId,
      created_at: new Date().toISOString(),
    });
    await container.start();
    const info = await container.inspect();
    const target = loopbackTarget(info);
    if (!target) throw new Error(`Container ${name} has no published port ${spec.port}`);
    return { id: container.id, group: container.id, name, target, started: stateOf(info) };
  } catch (err) {
    await removeInstances(docker, registry, [container.id], 0);
    throw err;
  }
}

/** Stops (with a grace period) and removes containers and forgets them; ones already gone are fine. */
export async function removeInstances(
  docker: Docker,
  registry: InstanceRepo,
  containerIds: string[],
  graceSeconds = 10,
): Promise<void> {
  await Promise.all(
    containerIds.map(async (id) => {
      const c = docker.getContainer(id);
      await c.stop({ t: graceSeconds }).catch(() => {});
      await c.remove({ force: true }).catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
      });
      registry.forget(id);
    }),
  );
}

/** The recorded app containers of a project, each inspected by id. */
export async function listInstances(
  docker: Docker,
  registry: InstanceRepo,
  project: { id: string; name: string },
): Promise<ListedInstance[]> {
  return Promise.all(
    registry.ofProject(project.id).map(async (row) => {
      const info = await docker
        .getContainer(row.container_id)
        .inspect()
        .catch((err: { statusCode?: number }) => {
          if (err.statusCode === 404) return null;
          throw err;
        });
      // An id is never reused, so a container of another image is not the one recorded.
      const ours = info !== null && info.Image === row.image_id;
      return {
        id: row.container_id,
        group: row.container_id,
        containerId: ours ? row.container_id : null,
        instance: row.name.replace(/^slipway-.*?-(\d+-[0-9a-f]{8})$/, '$1'),
        deploymentId: row.deployment_id,
        project: project.name,
        state: ours ? info.State.Status : 'missing',
        target: ours ? loopbackTarget(info) : null,
      };
    }),
  );
}

/**
 * This agent's app-labelled containers that Slipway did not record: left by a crash between
 * create and record, or made by someone else with Slipway's labels. They are only ever removed.
 */
export async function unrecordedContainers(
  docker: Docker,
  registry: InstanceRepo,
  agentId: string,
): Promise<Docker.ContainerInfo[]> {
  const recorded = registry.ids();
  const labelled = await docker.listContainers({
    all: true,
    filters: { label: labelFilter({ role: 'app', agent: agentId }) },
  });
  return labelled.filter((c) => !recorded.has(c.Id));
}

/** The 127.0.0.1 address a container's published port answers on, if it has one. */
function loopbackTarget(info: Docker.ContainerInspectInfo): string | null {
  for (const bindings of Object.values(info.NetworkSettings.Ports ?? {})) {
    const binding = bindings?.find((b) => b.HostIp === '127.0.0.1' && b.HostPort);
    if (binding) return `127.0.0.1:${binding.HostPort}`;
  }
  return null;
}
