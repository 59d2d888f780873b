import type { InstanceRow } from '../../db/instances.ts';
import type { ListedInstance } from '../runtime.ts';

/** The parts of a Swarm task Slipway reads (GET /tasks). */
export interface TaskInfo {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  DesiredState?: string;
  CreatedAt?: string;
  Status?: {
    State?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
    PortStatus?: { Ports?: { TargetPort?: number; PublishedPort?: number; PublishMode?: string }[] };
  };
}

/** The parts of a Swarm node Slipway reads (GET /nodes). */
export interface NodeInfo {
  ID: string;
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Addr?: string };
}

/** An instance id on swarm: the release's service and one of its tasks (empty when it has none). */
export function instanceId(serviceId: string, taskId: string): string {
  return `${serviceId}/${taskId}`;
}

/** The service and task of an instance id. */
export function parseInstanceId(id: string): { serviceId: string; taskId: string } {
  const [serviceId = '', taskId = ''] = id.split('/');
  return { serviceId, taskId };
}

/**
 * The address the edge reaches a node's published ports on. A manager reports 0.0.0.0 as its
 * Status.Addr on some engines; its ManagerStatus.Addr (`ip:2377`) names the address it advertises.
 */
export function nodeAddress(node: NodeInfo): string | null {
  const addr = node.Status?.Addr;
  if (addr && addr !== '0.0.0.0') return addr;
  const manager = node.ManagerStatus?.Addr;
  return manager ? manager.replace(/:\d+$/, '') : null;
}

/** `node address:published port` of a running task, or null while it has none. */
export function taskTarget(task: TaskInfo, nodes: Map<string, NodeInfo>): string | null {
  if (task.Status?.State !== 'running' || !task.NodeID) return null;
  const port = task.Status.PortStatus?.Ports?.find((p) => p.PublishMode === 'host' && p.PublishedPort);
  const node = nodes.get(task.NodeID);
  const address = node ? nodeAddress(node) : null;
  return port && address ? `${address}:${port.PublishedPort}` : null;
}

/** What the swarm says about a project's recorded release services, for `toInstances`. */
export interface SwarmView {
  /** Ids of the recorded services that still exist. */
  services: Set<string>;
  /** Their tasks whose desired state is running. */
  tasks: TaskInfo[];
  nodes: Map<string, NodeInfo>;
  /** The node of the engine Slipway talks to: its tasks' containers can be read (logs, exec). */
  selfNode: string | null;
}

/**
 * The instances of a project's recorded release services: one per task Swarm wants running,
 * in slot order. A service that is gone, or that has no such task (a hand-off holds it at 0
 * replicas), is listed once as `missing`, so that it is still removed and forgotten.
 */
export function toInstances(rows: InstanceRow[], project: string, view: SwarmView): ListedInstance[] {
  return rows.flatMap((row): ListedInstance[] => {
    const short = row.name.replace(/^slipway-.*?-(\d+-[0-9a-f]{8})$/, '$1');
    const tasks = view.services.has(row.container_id)
      ? view.tasks.filter((t) => t.ServiceID === row.container_id).sort((a, b) => (a.Slot ?? 0) - (b.Slot ?? 0))
      : [];
    if (tasks.length === 0) {
      const id = instanceId(row.container_id, '');
      return [
        {
          id,
          group: row.container_id,
          instance: short,
          deploymentId: row.deployment_id,
          project,
          state: 'missing',
          target: null,
          containerId: null,
        },
      ];
    }
    return tasks.map((t) => {
      const container = t.Status?.ContainerStatus?.ContainerID ?? null;
      return {
        id: instanceId(row.container_id, t.ID),
        group: row.container_id,
        instance: `${short}.${t.Slot ?? 0}`,
        deploymentId: row.deployment_id,
        project,
        state: t.Status?.State ?? 'unknown',
        target: taskTarget(t, view.nodes),
        containerId: container && t.NodeID === view.selfNode ? container : null,
      };
    });
  });
}
