import type { Db } from './open.ts';

/** A row of the tokens table. */
export interface TokenRow {
  id: string;
  name: string;
  hash: string;
  hint: string;
  scope: 'read' | 'deploy' | 'admin';
  projects: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** Statements on the tokens table, prepared once. */
export function tokenRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO tokens (id, name, hash, hint, scope, projects, created_at, expires_at)
     VALUES (@id, @name, @hash, @hint, @scope, @projects, @created_at, @expires_at)`,
  );
  const byHash = db.prepare('SELECT * FROM tokens WHERE hash = ?');
  const byId = db.prepare('SELECT * FROM tokens WHERE id = ?');
  const list = db.prepare('SELECT * FROM tokens WHERE id > ? ORDER BY id LIMIT ?');
  const revoke = db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const count = db.prepare('SELECT count(*) AS n FROM tokens');
  const touch = db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?');
  return {
    insert: (row: Omit<TokenRow, 'last_used_at' | 'revoked_at'>) => void insert.run(row),
    findByHash: (hash: string) => byHash.get(hash) as TokenRow | undefined,
    findById: (id: string) => byId.get(id) as TokenRow | undefined,
    /** Tokens ordered by id (creation), after `afterId`. */
    list: (afterId: string, limit: number) => list.all(afterId, limit) as TokenRow[],
    revoke: (id: string, at: string) => revoke.run(at, id).changes > 0,
    count: () => (count.get() as { n: number }).n,
    touch: (id: string, at: string) => void touch.run(at, id),
  };
}

/** The tokens repository. */
export type TokenRepo = ReturnType<typeof tokenRepo>;
