/**
 * The machines Slipway runs containers on: on the swarm runtime the nodes of the Swarm the engine
 * manages; on the docker runtime the one local engine as a node of role `standalone`, so that
 * `GET /v1/nodes` always answers.
 */
import type Docker from 'dockerode';
import type { NodeView } from '../nodes/view.ts';
import { localTasks } from './local-tasks.ts';
import type { RuntimeKind } from './runtime.ts';
import { swarmNodes } from './swarm/nodes.ts';

/** The nodes of the runtime `kind`, with this agent's tasks (or containers) on each. */
export async function listNodes(docker: Docker, agentId: string, kind: RuntimeKind): Promise<NodeView[]> {
  if (kind === 'swarm') return swarmNodes(docker, agentId);
  return [await standaloneNode(docker, agentId, (await docker.info()) as EngineInfo)];
}

async function standaloneNode(docker: Docker, agentId: string, info: EngineInfo): Promise<NodeView> {
  const tasks = await localTasks(docker, agentId, false);
  return {
    id: info.ID,
    hostname: info.Name,
    role: 'standalone',
    leader: false,
    availability: 'active',
    state: 'ready',
    address: null,
    engine_version: info.ServerVersion,
    resources: { cpus: info.NCPU, memory_bytes: info.MemTotal },
    labels: engineLabels(info.Labels ?? []),
    tasks,
  };
}

/** The engine's labels (`key=value` strings in daemon.json or --label) as a map. */
function engineLabels(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const label of labels) {
    const eq = label.indexOf('=');
    if (eq > 0) out[label.slice(0, eq)] = label.slice(eq + 1);
  }
  return out;
}

/** The fields read from GET /info. */
interface EngineInfo {
  ID: string;
  Name: string;
  ServerVersion: string;
  NCPU: number;
  MemTotal: number;
  Labels?: string[];
}
