/** The nodes of a Swarm and the tasks of this agent's services on them, as the manager sees them. */
import type Docker from 'dockerode';
import type { NodeTaskView, NodeView } from '../../nodes/view.ts';
import { LABEL, labelFilter } from '../labels.ts';
import { localTasks } from '../local-tasks.ts';
import { nodeAddress } from './tasks.ts';

/**
 * Every node of the Swarm the engine manages, each with this agent's tasks that should run on it;
 * the manager's own node also with the agent's plain containers there (a project's database).
 */
export async function swarmNodes(docker: Docker, agentId: string): Promise<NodeView[]> {
  const [nodes, tasksByNode, local, info] = await Promise.all([
    docker.listNodes() as Promise<SwarmNode[]>,
    agentTasksByNode(docker, agentId),
    localTasks(docker, agentId, true),
    docker.info() as Promise<{ Swarm?: { NodeID?: string } }>,
  ]);
  const here = info.Swarm?.NodeID;
  return nodes.map((n) => nodeView(n, [...(tasksByNode.get(n.ID) ?? []), ...(n.ID === here ? local : [])]));
}

/**
 * This agent's tasks by node id: those of services labelled with its agent id, and of those only
 * the ones Swarm wants running (the list also holds every replaced or failed task of the past).
 */
async function agentTasksByNode(docker: Docker, agentId: string): Promise<Map<string, NodeTaskView[]>> {
  const services = (await docker.listServices({
    filters: { label: labelFilter({ agent: agentId }) },
  })) as SwarmService[];
  const byNode = new Map<string, NodeTaskView[]>();
  if (services.length === 0) return byNode;
  const serviceOf = new Map(services.map((s) => [s.ID, s]));
  const tasks = (await docker.listTasks({
    filters: { service: services.map((s) => s.ID), 'desired-state': ['running'] },
  })) as SwarmTask[];
  for (const task of tasks) {
    const service = serviceOf.get(task.ServiceID);
    if (!service || !task.NodeID) continue;
    const list = byNode.get(task.NodeID) ?? [];
    list.push(taskView(task, service));
    byNode.set(task.NodeID, list);
  }
  return byNode;
}

function taskView(task: SwarmTask, service: SwarmService): NodeTaskView {
  const labels = { ...service.Spec?.Labels, ...task.Spec?.ContainerSpec?.Labels };
  const name = service.Spec?.Name ?? service.ID;
  return {
    id: task.ID,
    service: task.Slot ? `${name}.${task.Slot}` : name,
    project: labels[LABEL.project] ?? '',
    role: labels[LABEL.role] ?? 'app',
    release: labels[LABEL.deployment] ?? null,
    state: task.Status?.State ?? 'unknown',
  };
}

function nodeView(node: SwarmNode, tasks: NodeTaskView[]): NodeView {
  const role = node.Spec?.Role === 'manager' ? 'manager' : 'worker';
  return {
    id: node.ID,
    hostname: node.Description?.Hostname ?? '',
    role,
    leader: node.ManagerStatus?.Leader === true,
    availability: node.Spec?.Availability ?? 'active',
    state: node.Status?.State ?? 'unknown',
    address: nodeAddress(node),
    engine_version: node.Description?.Engine?.EngineVersion ?? '',
    resources: {
      cpus: (node.Description?.Resources?.NanoCPUs ?? 0) / 1e9,
      memory_bytes: node.Description?.Resources?.MemoryBytes ?? 0,
    },
    labels: node.Spec?.Labels ?? {},
    tasks: tasks.sort((a, b) => a.service.localeCompare(b.service)),
  };
}

/** The fields read from GET /nodes (dockerode types them loosely). */
interface SwarmNode {
  ID: string;
  Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> };
  Description?: {
    Hostname?: string;
    Engine?: { EngineVersion?: string };
    Resources?: { NanoCPUs?: number; MemoryBytes?: number };
  };
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Leader?: boolean; Addr?: string };
}

interface SwarmService {
  ID: string;
  Spec?: { Name?: string; Labels?: Record<string, string> };
}

interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  Spec?: { ContainerSpec?: { Labels?: Record<string, string> } };
  Status?: { State?: string };
}
