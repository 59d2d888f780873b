import type { Db } from './open.ts';

/** A row of the databases table; `password` is sealed. */
export interface DatabaseRow {
  project_id: string;
  image: string;
  password: string;
  created_at: string;
}

/** Statements on the databases table, prepared once. */
export function databaseRepo(db: Db) {
  const insert = db.prepare(
    'INSERT INTO databases (project_id, image, password, created_at) VALUES (@project_id, @image, @password, @created_at)',
  );
  const find = db.prepare('SELECT * FROM databases WHERE project_id = ?');
  const remove = db.prepare('DELETE FROM databases WHERE project_id = ?');
  return {
    insert: (row: DatabaseRow) => void insert.run(row),
    find: (projectId: string) => find.get(projectId) as DatabaseRow | undefined,
    remove: (projectId: string) => remove.run(projectId).changes > 0,
  };
}

/** The databases repository. */
export type DatabaseRepo = ReturnType<typeof databaseRepo>;
