import type { Db } from './open.ts';

/** A row of the volumes table: a Docker volume Slipway made for one of a project's volume names. */
export interface VolumeRow {
  project_id: string;
  name: string;
  docker_name: string;
  /** The size limit the engine enforces on it, bytes; null when none is. */
  size_limit_bytes: number | null;
  created_at: string;
}

/** Statements on the volumes table, prepared once. */
export function volumeRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO volumes (project_id, name, docker_name, size_limit_bytes, created_at)
     VALUES (@project_id, @name, @docker_name, @size_limit_bytes, @created_at)`,
  );
  const find = db.prepare('SELECT * FROM volumes WHERE project_id = ? AND name = ?');
  const ofProject = db.prepare('SELECT * FROM volumes WHERE project_id = ? ORDER BY name');
  const replace = db.prepare(
    `UPDATE volumes SET docker_name = @docker_name, size_limit_bytes = @size_limit_bytes, created_at = @created_at
     WHERE project_id = @project_id AND name = @name`,
  );
  const remove = db.prepare('DELETE FROM volumes WHERE project_id = ? AND name = ?');
  return {
    insert: (row: VolumeRow) => void insert.run(row),
    find: (projectId: string, name: string) => find.get(projectId, name) as VolumeRow | undefined,
    ofProject: (projectId: string) => ofProject.all(projectId) as VolumeRow[],
    /** Points a volume name at another Docker volume (a restore swaps one in). */
    replace: (row: VolumeRow) => void replace.run(row),
    remove: (projectId: string, name: string) => remove.run(projectId, name).changes > 0,
  };
}

/** The volumes repository. */
export type VolumeRepo = ReturnType<typeof volumeRepo>;
