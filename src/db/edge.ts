import type { Db } from './open.ts';

/** A route as stored: JSON arrays of hostnames and "127.0.0.1:port" targets. */
export interface EdgeRouteRow {
  project: string;
  deployment_id: string | null;
  hostnames: string;
  targets: string;
  updated_at: string;
}

/** Statements on the edge tables, prepared once; shared by the API/worker and the edge. */
export function edgeRepo(db: Db) {
  const upsert = db.prepare(
    `INSERT INTO edge_routes (project, deployment_id, hostnames, targets, updated_at) VALUES (@project, @deployment_id, @hostnames, @targets, @updated_at)
     ON CONFLICT (project) DO UPDATE SET deployment_id = excluded.deployment_id, hostnames = excluded.hostnames,
       targets = excluded.targets, updated_at = excluded.updated_at`,
  );
  const remove = db.prepare('DELETE FROM edge_routes WHERE project = ?');
  const all = db.prepare('SELECT * FROM edge_routes ORDER BY project');
  const one = db.prepare('SELECT * FROM edge_routes WHERE project = ?');
  const bump = db.prepare("UPDATE edge_meta SET value = value + 1 WHERE key = 'routes_version' RETURNING value");
  const meta = db.prepare('SELECT value FROM edge_meta WHERE key = ?');
  const setMeta = db.prepare('UPDATE edge_meta SET value = ? WHERE key = ?');
  const clearDraining = db.prepare('DELETE FROM edge_draining');
  const addDraining = db.prepare('INSERT INTO edge_draining (target, inflight, updated_at) VALUES (?, ?, ?)');
  const draining = db.prepare('SELECT target, inflight FROM edge_draining');
  return {
    /** Sets a project's targets and bumps the version the edge polls; returns that version. */
    setRoute(route: { project: string; deployment_id: string | null; hostnames: string[]; targets: string[] }): number {
      return db.transaction(() => {
        upsert.run({
          ...route,
          hostnames: JSON.stringify(route.hostnames),
          targets: JSON.stringify(route.targets),
          updated_at: new Date().toISOString(),
        });
        return (bump.get() as { value: number }).value;
      })();
    },
    /** Drops a project's route; returns the new version. */
    removeRoute(project: string): number {
      return db.transaction(() => {
        remove.run(project);
        return (bump.get() as { value: number }).value;
      })();
    },
    routes: () => all.all() as EdgeRouteRow[],
    route: (project: string) => one.get(project) as EdgeRouteRow | undefined,
    routesVersion: () => (meta.get('routes_version') as { value: number }).value,
    appliedVersion: () => (meta.get('applied_version') as { value: number }).value,
    /** Written by the edge after it applied a version, with the targets it still drains. */
    reportApplied(version: number, drainingTargets: { target: string; inflight: number }[]): void {
      db.transaction(() => {
        setMeta.run(version, 'applied_version');
        clearDraining.run();
        const at = new Date().toISOString();
        for (const d of drainingTargets) addDraining.run(d.target, d.inflight, at);
      })();
    },
    draining: () => draining.all() as { target: string; inflight: number }[],
  };
}

/** The edge repository. */
export type EdgeRepo = ReturnType<typeof edgeRepo>;
