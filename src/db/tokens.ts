import type { Db } from './open.ts';

/** A row of the tokens table. */
export interface TokenRow {
  id: string;
  name: string;
  hash: string;
  hint: string;
  scope: 'read' | 'deploy' | 'admin';
  /** 1 when the token may use only the projects in token_projects (possibly none left). */
  limited: 0 | 1;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** Statements on the tokens and token_projects tables, prepared once. */
export function tokenRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO tokens (id, name, hash, hint, scope, limited, created_at, expires_at)
     VALUES (@id, @name, @hash, @hint, @scope, @limited, @created_at, @expires_at)`,
  );
  // Bound to the project of that name when there is one now, else left to bindPending.
  const grant = db.prepare(
    `INSERT INTO token_projects (token_id, name, project_id)
     VALUES (?, ?, (SELECT id FROM projects WHERE name = ?))`,
  );
  // A grant still waiting for its project counts only while no project has that name, so a grant
  // can never reach a project it was not bound to, whatever happened between the two.
  const projectsOf = db.prepare(
    `SELECT coalesce(p.name, g.name) AS name
     FROM token_projects AS g LEFT JOIN projects AS p ON p.id = g.project_id
     WHERE g.token_id = ?
       AND (p.id IS NOT NULL OR (g.project_id IS NULL AND NOT EXISTS (SELECT 1 FROM projects WHERE name = g.name)))
     ORDER BY 1`,
  );
  const bindPending = db.prepare('UPDATE token_projects SET project_id = ? WHERE name = ? AND project_id IS NULL');
  const byHash = db.prepare('SELECT * FROM tokens WHERE hash = ?');
  const byId = db.prepare('SELECT * FROM tokens WHERE id = ?');
  const list = db.prepare('SELECT * FROM tokens WHERE id > ? ORDER BY id LIMIT ?');
  const revoke = db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const count = db.prepare('SELECT count(*) AS n FROM tokens');
  const touch = db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?');
  return {
    /** Inserts a token and, when it is limited, its projects by name; call inside a transaction. */
    insert(row: Omit<TokenRow, 'last_used_at' | 'revoked_at'>, projects: readonly string[]): void {
      insert.run(row);
      for (const name of projects) grant.run(row.id, name, name);
    },
    /** Names of the projects a limited token may use now, sorted. */
    projectsOf: (tokenId: string) => (projectsOf.all(tokenId) as { name: string }[]).map((r) => r.name),
    /** Hands a new project to the tokens minted for its name before it existed. */
    bindPending: (projectId: string, name: string) => void bindPending.run(projectId, name),
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
