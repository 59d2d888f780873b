import type Docker from 'dockerode';
import type { InstanceRepo } from '../db/instances.ts';
import { removeHolders } from './holder.ts';
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
 * With a `holder` (holder.ts, made for this spec's network and port) the container joins the
 * holder's network namespace, which publishes the port, instead of being given one of its own.
 */
export async function startInstance(
  docker: Docker,
  registry: InstanceRepo,
  spec: InstanceSpec,
  holder: string | null = null,
): Promise<Instance> {
  const name = `slipway-${spec.project}-${spec.number}-${crypto.randomUUID().slice(0, 8)}`;
  const container = await docker.createContainer({
    name,
    Image: spec.image,
    Env: Object.entries({ ...spec.env, PORT: String(spec.port) }).map(([k, v]) => `${k}=${v}`),
    Labels: appLabels(spec.agentId, { project: spec.project, id: spec.deploymentId, number: spec.number }),
    ...(holder === null && { ExposedPorts: { [`${spec.port}/tcp`]: {} } }),
    HostConfig: { ...networking(spec, holder), ...appHostConfig(spec) },
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
      holder_id: holder,
    });
    await container.start();
    const [info, published] = await Promise.all([
      container.inspect(),
      holder === null ? null : docker.getContainer(holder).inspect(),
    ]);
    const target = loopbackTarget(published ?? info);
    if (!target) throw new Error(`Container ${name} has no published port ${spec.port}`);
    return { id: container.id, group: container.id, name, target, started: stateOf(info) };
  } catch (err) {
    await removeInstances(docker, registry, [container.id], 0);
    throw err;
  }
}

/** The network an app container gets: the holder's namespace, or its own on the project's network. */
function networking(spec: InstanceSpec, holder: string | null): Docker.HostConfig {
  if (holder !== null) return { NetworkMode: `container:${holder}` };
  return {
    PortBindings: { [`${spec.port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
    NetworkMode: spec.network,
  };
}

/** The limits and hardening of every app container. */
function appHostConfig(spec: InstanceSpec): Docker.HostConfig {
  return {
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
  };
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
      const holder = registry.holderOf(id);
      await c.stop({ t: graceSeconds }).catch(() => {});
      await c.remove({ force: true }).catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
      });
      if (holder !== null) await removeHolders(docker, [holder]);
      registry.forget(id);
    }),
  );
}

/** The recorded app containers of a project, each inspected by id (with its network holder, if any). */
export async function listInstances(
  docker: Docker,
  registry: InstanceRepo,
  project: { id: string; name: string },
): Promise<ListedInstance[]> {
  return Promise.all(
    registry.ofProject(project.id).map(async (row) => {
      const [info, holder] = await Promise.all([
        inspectIfAny(docker, row.container_id),
        row.holder_id === null ? null : inspectIfAny(docker, row.holder_id),
      ]);
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
        target: !ours ? null : row.holder_id === null ? loopbackTarget(info) : heldTarget(info, holder),
      };
    }),
  );
}

/**
 * The address of an app container in a holder's namespace: the holder's published port, while the
 * holder runs the namespace the app joined. A holder that stopped, or started again after the app
 * (the engine's restart after a crash or a reboot), no longer carries the app's traffic: null, and
 * the reconciler replaces the instance.
 */
function heldTarget(app: Docker.ContainerInspectInfo, holder: Docker.ContainerInspectInfo | null): string | null {
  if (holder === null || !holder.State.Running) return null;
  if (Date.parse(holder.State.StartedAt) > Date.parse(app.State.StartedAt)) return null;
  return loopbackTarget(holder);
}

async function inspectIfAny(docker: Docker, id: string): Promise<Docker.ContainerInspectInfo | null> {
  return docker
    .getContainer(id)
    .inspect()
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode === 404) return null;
      throw err;
    });
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

/** This agent's network holders that no recorded instance has (the pool's own among them). */
export async function unrecordedHolders(
  docker: Docker,
  registry: InstanceRepo,
  agentId: string,
): Promise<Docker.ContainerInfo[]> {
  const recorded = registry.holderIds();
  const labelled = await docker.listContainers({
    all: true,
    filters: { label: labelFilter({ role: 'holder', agent: agentId }) },
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
