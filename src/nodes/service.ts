/** The nodes list of the API: who sees which tasks, and its pages. */
import type Docker from 'dockerode';
import { decodeCursor, encodeCursor, type Page } from '../db/pagination.ts';
import { DockerUnavailableError } from '../errors.ts';
import { listNodes } from '../runtime/nodes.ts';
import type { RuntimeKind } from '../runtime/runtime.ts';
import type { NodeView } from './view.ts';

/** What the nodes list needs. */
export interface NodeServiceDeps {
  docker: Docker;
  agentId: string;
  /** The runtime that runs (SLIPWAY_RUNTIME): which nodes there are. */
  runtime: RuntimeKind;
}

/** Lists nodes; `projects` (a limited token's) hides every other project's tasks. */
export function nodeService(d: NodeServiceDeps) {
  return {
    async list(projects: string[] | null, page: { cursor?: string; limit: number }): Promise<Page<NodeView>> {
      const after = decodeCursor('nodes', page.cursor, 'string');
      const nodes = (await engineNodes(d))
        .map((n) => (projects === null ? n : { ...n, tasks: n.tasks.filter((t) => projects.includes(t.project)) }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .filter((n) => after === undefined || n.id > after);
      const data = nodes.slice(0, page.limit);
      const hasMore = nodes.length > page.limit;
      return {
        data,
        pagination: { next_cursor: hasMore ? encodeCursor('nodes', data.at(-1)!.id) : null, has_more: hasMore },
      };
    },
  };
}

/** The nodes list. */
export type NodeService = ReturnType<typeof nodeService>;

/** The nodes, or a 503 when the engine does not answer (a refused socket has no HTTP status) or manages no swarm. */
async function engineNodes(d: NodeServiceDeps): Promise<NodeView[]> {
  try {
    return await listNodes(d.docker, d.agentId, d.runtime);
  } catch (err) {
    const { statusCode, json } = err as { statusCode?: number; json?: { message?: string } | null };
    // 503 is the engine saying it manages no swarm (SLIPWAY_RUNTIME=swarm on a plain engine).
    if (statusCode === 503)
      throw new DockerUnavailableError(`Cannot list the nodes: ${json?.message ?? 'the engine is no swarm manager'}`);
    if (statusCode !== undefined) throw err;
    throw new DockerUnavailableError(
      `Cannot list the nodes: the Docker engine did not answer (${(err as Error).message})`,
    );
  }
}
