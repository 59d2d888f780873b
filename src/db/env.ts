import type { Db } from './open.ts';

/** A row of env_vars; `value` is sealed. */
export interface EnvRow {
  project_id: string;
  key: string;
  value: string;
  managed_by: string | null;
  created_at: string;
  updated_at: string;
}

/** Statements on env_vars, prepared once. */
export function envRepo(db: Db) {
  const all = db.prepare('SELECT * FROM env_vars WHERE project_id = ? ORDER BY key');
  const upsert = db.prepare(
    `INSERT INTO env_vars (project_id, key, value, managed_by, created_at, updated_at) VALUES (@project_id, @key, @value, @managed_by, @at, @at)
     ON CONFLICT (project_id, key) DO UPDATE SET value = excluded.value, managed_by = excluded.managed_by, updated_at = excluded.updated_at`,
  );
  const remove = db.prepare('DELETE FROM env_vars WHERE project_id = ? AND key = ?');
  const clear = db.prepare('DELETE FROM env_vars WHERE project_id = ?');
  return {
    list: (projectId: string) => all.all(projectId) as EnvRow[],
    set: (row: { project_id: string; key: string; value: string; managed_by: string | null; at: string }) =>
      void upsert.run(row),
    remove: (projectId: string, key: string) => remove.run(projectId, key).changes > 0,
    clear: (projectId: string) => void clear.run(projectId),
  };
}

/** The env repository. */
export type EnvRepo = ReturnType<typeof envRepo>;
