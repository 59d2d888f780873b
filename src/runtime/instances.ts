import type Docker from 'dockerode';
import { appLabels, labelFilter, labelOf } from './labels.ts';

/** Capabilities app containers keep; everything else is dropped. These are what common images
 * need to drop root at start (chown their files, switch user) and to bind ports below 1024. */
export const KEPT_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID', 'NET_BIND_SERVICE'];

/** The most processes one app container may run. */
export const PIDS_LIMIT = 512;

/** What one app instance runs. */
export interface InstanceSpec {
  agentId: string;
  project: string;
  deploymentId: string;
  number: number;
  image: string;
  network: string;
  port: number;
  env: Record<string, string>;
  memoryMb: number;
  cpus: number;
}

/** A started instance: its container and the loopback address the edge uses. */
export interface Instance {
  containerId: string;
  name: string;
  target: string;
}

/**
 * Creates and starts one app container with Slipway's safe defaults: its port published only
 * on 127.0.0.1 (random host port), no new privileges, a short capability list, pid, memory and
 * CPU limits, rotated json-file logs, restart unless stopped, on the project's own network.
 */
export async function startInstance(docker: Docker, spec: InstanceSpec): Promise<Instance> {
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
    await container.start();
    const info = await container.inspect();
    const hostPort = info.NetworkSettings.Ports?.[portKey]?.[0]?.HostPort;
    if (!hostPort) throw new Error(`Container ${name} has no published port ${spec.port}`);
    return { containerId: info.Id, name, target: `127.0.0.1:${hostPort}` };
  } catch (err) {
    await container.remove({ force: true }).catch(() => {});
    throw err;
  }
}

/** Stops (with a grace period) and removes containers; ones already gone are ignored. */
export async function removeInstances(docker: Docker, containerIds: string[], graceSeconds = 10): Promise<void> {
  await Promise.all(
    containerIds.map(async (id) => {
      const c = docker.getContainer(id);
      await c.stop({ t: graceSeconds }).catch(() => {});
      await c.remove({ force: true }).catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
      });
    }),
  );
}

/** A running or stopped app container as Docker reports it. */
export interface ListedInstance {
  containerId: string;
  /** The container name without Slipway's prefix: `<number>-<random>`. */
  instance: string;
  deploymentId: string;
  project: string;
  state: string;
  target: string | null;
}

/** Every app container of this agent, optionally of one project. */
export async function listInstances(docker: Docker, agentId: string, project?: string): Promise<ListedInstance[]> {
  const label = labelFilter({ role: 'app', agent: agentId, project });
  const containers = await docker.listContainers({ all: true, filters: { label } });
  return containers.map((c) => {
    const published = c.Ports.find((p) => p.IP === '127.0.0.1' && p.PublicPort);
    return {
      containerId: c.Id,
      instance: (c.Names[0] ?? c.Id).replace(/^\/?slipway-.*?-(\d+-[0-9a-f]{8})$/, '$1'),
      deploymentId: labelOf(c.Labels, 'deployment') ?? '',
      project: labelOf(c.Labels, 'project') ?? '',
      state: c.State,
      target: published ? `127.0.0.1:${published.PublicPort}` : null,
    };
  });
}
