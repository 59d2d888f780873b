import { Elysia, t } from 'elysia';
import type { NodeService } from '../../nodes/service.ts';
import { accessPlugin, visibleProjects } from '../access.ts';
import { AUTH_ERRORS, errors, Page, PageQuery } from '../schemas.ts';
import { Node } from './schema.ts';

const LIST_DESCRIPTION = `The machines the apps run on. On Swarm (SLIPWAY_RUNTIME=swarm) every node
of the cluster with its role, availability, state, address, engine version, resources and labels; on one
engine that engine alone, as a node of role \`standalone\`. Each node lists Slipway's tasks on it (this agent's,
found by label) that Swarm means to run, with their state. Read scope: a project-limited token sees every
node (what the cluster is made of is no secret from a tenant whose apps run on it) but only its own
projects' tasks.`;

/** /v1/nodes: the cluster's nodes and Slipway's tasks on them. */
export function nodeRoutes({ nodes }: { nodes: NodeService }) {
  return new Elysia({ prefix: '/nodes' })
    .use(accessPlugin)
    .get(
      '',
      ({ principal, query }) =>
        nodes.list(visibleProjects(principal), { cursor: query.cursor, limit: query.limit ?? 50 }),
      {
        access: { scope: 'read', project: 'filter' },
        query: t.Object(PageQuery),
        detail: { summary: 'List the nodes and the tasks on them', description: LIST_DESCRIPTION, tags: ['Nodes'] },
        response: { 200: Page(Node), ...errors(400, 422, 503, ...AUTH_ERRORS) },
      },
    );
}
