/** This agent's app and database containers on the engine Slipway talks to, as tasks of a node. */
import type Docker from 'dockerode';
import type { NodeTaskView } from '../nodes/view.ts';
import { LABEL, labelFilter } from './labels.ts';

/** Swarm's label on the containers of its tasks. */
const SWARM_SERVICE_LABEL = 'com.docker.swarm.service.id';

/**
 * The agent's app and database containers on this engine, by name; `plainOnly` leaves out the
 * containers of Swarm tasks (listed as tasks of their services instead).
 */
export async function localTasks(docker: Docker, agentId: string, plainOnly: boolean): Promise<NodeTaskView[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: labelFilter({ agent: agentId }) } });
  return containers
    .filter((c) => c.Labels[LABEL.role] === 'app' || c.Labels[LABEL.role] === 'database')
    .filter((c) => !plainOnly || c.Labels[SWARM_SERVICE_LABEL] === undefined)
    .map((c) => ({
      id: c.Id,
      service: (c.Names[0] ?? c.Id).replace(/^\//, ''),
      project: c.Labels[LABEL.project] ?? '',
      role: c.Labels[LABEL.role]!,
      release: c.Labels[LABEL.deployment] ?? null,
      state: c.State,
    }))
    .sort((a, b) => a.service.localeCompare(b.service));
}
