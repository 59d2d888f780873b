import type { Db } from './open.ts';

/** A row of the registries table; `password` is sealed. */
export interface RegistryRow {
  id: string;
  host: string;
  username: string;
  password: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

/** Statements on the registries table, prepared once. */
export function registryRepo(db: Db) {
  const upsert = db.prepare(
    `INSERT INTO registries (id, host, username, password, created_by, created_at, updated_at)
       VALUES (@id, @host, @username, @password, @created_by, @at, @at)
     ON CONFLICT (host) DO UPDATE SET username = excluded.username, password = excluded.password, updated_at = excluded.updated_at
     RETURNING *`,
  );
  const byHost = db.prepare('SELECT * FROM registries WHERE host = ?');
  const page = db.prepare('SELECT * FROM registries WHERE host > ? ORDER BY host LIMIT ?');
  const remove = db.prepare('DELETE FROM registries WHERE host = ?');
  return {
    /** Adds credentials for a host, or replaces the ones it has; returns the stored row. */
    upsert: (row: Omit<RegistryRow, 'created_at' | 'updated_at'> & { at: string }) => upsert.get(row) as RegistryRow,
    find: (host: string) => byHost.get(host) as RegistryRow | undefined,
    /** Hosts after `after`, in order. */
    list: (after: string, limit: number) => page.all(after, limit) as RegistryRow[],
    remove: (host: string) => remove.run(host).changes > 0,
  };
}

/** The registries repository. */
export type RegistryRepo = ReturnType<typeof registryRepo>;
