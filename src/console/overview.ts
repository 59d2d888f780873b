import type { Db } from '../db/open.ts';
import { decodeCursor, toPage, type Page } from '../db/pagination.ts';

/** A deployment as the overview shows it. */
export interface DeploymentBrief {
  id: string;
  number: number;
  status: string;
  created_at: string;
  finished_at: string | null;
}

/** One project at a glance: read from the database alone, so it never waits on Docker. */
export interface ProjectOverview {
  name: string;
  hostname: string;
  /** Where the app answers through the edge (its plain HTTP listener). */
  url: string;
  desired_state: 'running' | 'stopped';
  instances: number;
  live: DeploymentBrief | null;
  last: DeploymentBrief | null;
  domains: string[];
}

interface Row {
  name: string;
  desired_state: 'running' | 'stopped';
  instances: number;
  live: string | null;
  last: string | null;
  domains: string;
}

const BRIEF = `json_object('id', d.id, 'number', d.number, 'status', d.status, 'created_at', d.created_at,
  'finished_at', d.finished_at)`;

/** The console's project list: each project with its live release, last deployment and domains. */
export function projectOverview(db: Db, baseDomain: string, edgePort: number) {
  const port = edgePort === 80 || edgePort === 0 ? '' : `:${edgePort}`;
  const list = db.prepare(
    `SELECT p.name, p.desired_state, p.instances,
       (SELECT ${BRIEF} FROM deployments AS d WHERE d.project_id = p.id AND d.status = 'live'
        ORDER BY d.number DESC LIMIT 1) AS live,
       (SELECT ${BRIEF} FROM deployments AS d WHERE d.project_id = p.id ORDER BY d.number DESC LIMIT 1) AS last,
       (SELECT json_group_array(hostname) FROM (SELECT hostname FROM domains WHERE project_id = p.id ORDER BY hostname))
         AS domains
     FROM projects AS p
     WHERE p.name > @after AND (@only IS NULL OR p.name IN (SELECT value FROM json_each(@only)))
     ORDER BY p.name LIMIT @limit`,
  );
  return {
    /** Projects by name, keyset-paginated; `only` limits to a project-limited token's projects. */
    list(q: { cursor?: string; limit: number; only: string[] | null }): Page<ProjectOverview> {
      const after = decodeCursor('overview', q.cursor, 'string') ?? '';
      const only = q.only ? JSON.stringify(q.only) : null;
      const rows = list.all({ after, only, limit: q.limit + 1 }) as Row[];
      const page = toPage(rows, q.limit, (r) => r.name, 'overview');
      return {
        data: page.data.map((r) => ({
          name: r.name,
          hostname: `${r.name}.${baseDomain}`,
          url: `http://${r.name}.${baseDomain}${port}/`,
          desired_state: r.desired_state,
          instances: r.instances,
          live: r.live ? (JSON.parse(r.live) as DeploymentBrief) : null,
          last: r.last ? (JSON.parse(r.last) as DeploymentBrief) : null,
          domains: JSON.parse(r.domains) as string[],
        })),
        pagination: page.pagination,
      };
    },
  };
}

/** The overview reader. */
export type ProjectOverviewReader = ReturnType<typeof projectOverview>;
