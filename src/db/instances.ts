import type { Db } from './open.ts';
import { relaxedCommits } from './relaxed.ts';

/** A row of the instances table: an app container Slipway created. */
export interface InstanceRow {
  container_id: string;
  name: string;
  project_id: string;
  deployment_id: string;
  image_id: string;
  created_at: string;
}

/**
 * Statements on the instances table, prepared once. A record is a relaxed commit (relaxed.ts): it
 * is made on the deploy path between creating a container and starting it, and synced by the
 * release's next synced commit; should the machine go down before that, the container is one
 * Slipway did not record, which removeUnrecorded takes away by its labels, as after a crash
 * between the create and the record.
 */
export function instanceRepo(db: Db) {
  const relaxed = relaxedCommits(db);
  const insert = db.prepare(
    `INSERT INTO instances (container_id, name, project_id, deployment_id, image_id, created_at)
     VALUES (@container_id, @name, @project_id, @deployment_id, @image_id, @created_at)`,
  );
  const remove = db.prepare('DELETE FROM instances WHERE container_id = ?');
  const ofProject = db.prepare('SELECT * FROM instances WHERE project_id = ? ORDER BY created_at, container_id');
  const all = db.prepare('SELECT container_id FROM instances');
  return {
    record: (row: InstanceRow) => void relaxed(() => insert.run(row)),
    forget: (containerId: string) => void remove.run(containerId),
    ofProject: (projectId: string) => ofProject.all(projectId) as InstanceRow[],
    /** Every recorded container id, of every project. */
    ids: () => new Set((all.all() as { container_id: string }[]).map((r) => r.container_id)),
  };
}

/** The instances repository. */
export type InstanceRepo = ReturnType<typeof instanceRepo>;
