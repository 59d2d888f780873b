import type { Db } from './open.ts';

/** A route as stored: JSON arrays of hostnames and "127.0.0.1:port" targets. */
export interface EdgeRouteRow {
  project: string;
  deployment_id: string | null;
  hostnames: string;
  targets: string;
  updated_at: string;
}

/**
 * The API's record of the route table in slipway.db, which the edge never opens: the source the
 * route store (src/edge/route-store.ts) is published from, and re-published from at every start.
 */
export function edgeRepo(db: Db) {
  const upsert = db.prepare(
    `INSERT INTO edge_routes (project, deployment_id, hostnames, targets, updated_at) VALUES (@project, @deployment_id, @hostnames, @targets, @updated_at)
     ON CONFLICT (project) DO UPDATE SET deployment_id = excluded.deployment_id, hostnames = excluded.hostnames,
       targets = excluded.targets, updated_at = excluded.updated_at`,
  );
  const remove = db.prepare('DELETE FROM edge_routes WHERE project = ?');
  const all = db.prepare('SELECT * FROM edge_routes ORDER BY project');
  const one = db.prepare('SELECT * FROM edge_routes WHERE project = ?');
  return {
    /** Records a project's hostnames and targets. */
    put(route: { project: string; deployment_id: string | null; hostnames: string[]; targets: string[] }): void {
      upsert.run({
        ...route,
        hostnames: JSON.stringify(route.hostnames),
        targets: JSON.stringify(route.targets),
        updated_at: new Date().toISOString(),
      });
    },
    /** Forgets a project's route. */
    remove: (project: string): void => void remove.run(project),
    routes: () => all.all() as EdgeRouteRow[],
    route: (project: string) => one.get(project) as EdgeRouteRow | undefined,
  };
}

/** The edge route repository. */
export type EdgeRepo = ReturnType<typeof edgeRepo>;
