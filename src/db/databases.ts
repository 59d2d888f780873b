import type { Db } from './open.ts';

/** A row of the databases table; `password` is sealed. */
export interface DatabaseRow {
  project_id: string;
  image: string;
  password: string;
  /** The container Slipway created for it, and that container's image (null before ids were recorded). */
  container_id: string | null;
  image_id: string | null;
  created_at: string;
}

/** Statements on the databases table, prepared once. */
export function databaseRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO databases (project_id, image, password, container_id, image_id, created_at)
     VALUES (@project_id, @image, @password, @container_id, @image_id, @created_at)`,
  );
  const find = db.prepare('SELECT * FROM databases WHERE project_id = ?');
  const remove = db.prepare('DELETE FROM databases WHERE project_id = ?');
  const setContainer = db.prepare('UPDATE databases SET container_id = ?, image_id = ? WHERE project_id = ?');
  return {
    insert: (row: DatabaseRow) => void insert.run(row),
    find: (projectId: string) => find.get(projectId) as DatabaseRow | undefined,
    remove: (projectId: string) => remove.run(projectId).changes > 0,
    /** Records the container (and its image) that is the project's database. */
    setContainer: (projectId: string, containerId: string, imageId: string) =>
      void setContainer.run(containerId, imageId, projectId),
  };
}

/** The databases repository. */
export type DatabaseRepo = ReturnType<typeof databaseRepo>;
