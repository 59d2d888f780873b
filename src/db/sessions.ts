import type { Db } from './open.ts';

/** A row of the sessions table. */
export interface SessionRow {
  id: string;
  hash: string;
  token_id: string | null;
  created_at: string;
  expires_at: string;
  ended_at: string | null;
}

/** A session with what its token says now (null token fields for a login-link session). */
export interface SessionWithToken extends SessionRow {
  token_name: string | null;
  token_scope: 'read' | 'deploy' | 'admin' | null;
  token_limited: 0 | 1 | null;
  token_expires_at: string | null;
  token_revoked_at: string | null;
}

/** A row of the login_links table. */
export interface LoginLinkRow {
  hash: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** Statements on the sessions and login_links tables, prepared once. */
export function sessionRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO sessions (id, hash, token_id, created_at, expires_at)
     VALUES (@id, @hash, @token_id, @created_at, @expires_at)`,
  );
  const byHash = db.prepare(
    `SELECT s.*, t.name AS token_name, t.scope AS token_scope, t.limited AS token_limited,
            t.expires_at AS token_expires_at, t.revoked_at AS token_revoked_at
     FROM sessions AS s LEFT JOIN tokens AS t ON t.id = s.token_id
     WHERE s.hash = ?`,
  );
  const end = db.prepare('UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL');
  const insertLink = db.prepare(
    'INSERT INTO login_links (hash, created_at, expires_at) VALUES (@hash, @created_at, @expires_at)',
  );
  // Used once: the guard on used_at makes a second use change nothing.
  const useLink = db.prepare(
    'UPDATE login_links SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?',
  );
  const pruneLinks = db.prepare('DELETE FROM login_links WHERE expires_at < ?');
  const pruneSessions = db.prepare('DELETE FROM sessions WHERE expires_at < ? OR ended_at < ?');
  return {
    insert: (row: Omit<SessionRow, 'ended_at'>) => void insert.run(row),
    findByHash: (hash: string) => byHash.get(hash) as SessionWithToken | undefined,
    /** Ends a session; false when it had already ended. */
    end: (id: string, at: string) => end.run(at, id).changes > 0,
    insertLink: (row: Omit<LoginLinkRow, 'used_at'>) => void insertLink.run(row),
    /** Marks a link used; false when it is unknown, expired or used already. */
    useLink: (hash: string, at: string) => useLink.run(at, hash, at).changes > 0,
    /** Forgets links and sessions that ended or expired before `at`. */
    prune(at: string): void {
      pruneLinks.run(at);
      pruneSessions.run(at, at);
    },
  };
}

/** The sessions repository. */
export type SessionRepo = ReturnType<typeof sessionRepo>;
