import type { Db } from './open.ts';

/** Where a domain stands: pending_dns → verified → issuing → active, or failed. */
export type DomainStatus = 'pending_dns' | 'verified' | 'issuing' | 'active' | 'failed';

/** A row of the domains table (booleans as 0/1, last_check as JSON). */
export interface DomainRow {
  id: string;
  project_id: string;
  hostname: string;
  redirect_to_https: number;
  hsts: number;
  status: DomainStatus;
  reason: string | null;
  attempts: number;
  next_attempt_at: string | null;
  last_check: string | null;
  /** What a TXT record must hold to prove the domain is the tenant's; null when no proof is asked (an admin added it). */
  ownership_token: string | null;
  /** When the domain first passed its checks; null while it never has. */
  proven_at: string | null;
  created_at: string;
  updated_at: string;
}

/** What a status change writes; the fields left out keep their values. */
export interface DomainStatusChange {
  status: DomainStatus;
  reason: string | null;
  next_attempt_at: string | null;
  /** Raised on each failed attempt, reset to 0 on success; kept when omitted. */
  attempts?: number;
  last_check?: string | null;
}

/** A domain as the edge routes it: its host name, its project's name and its options. */
export interface DomainHostRow {
  hostname: string;
  project: string;
  redirect_to_https: number;
  hsts: number;
  status: DomainStatus;
  ownership_token: string | null;
}

/** Statements on the domains table, prepared once. */
export function domainRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO domains (id, project_id, hostname, redirect_to_https, hsts, status, reason, attempts, next_attempt_at,
       last_check, ownership_token, proven_at, created_at, updated_at)
     VALUES (@id, @project_id, @hostname, @redirect_to_https, @hsts, @status, @reason, @attempts, @next_attempt_at,
       @last_check, @ownership_token, @proven_at, @created_at, @updated_at)`,
  );
  const byHostname = db.prepare('SELECT * FROM domains WHERE hostname = ?');
  const byId = db.prepare('SELECT * FROM domains WHERE id = ?');
  const ofProject = db.prepare('SELECT * FROM domains WHERE project_id = ? ORDER BY hostname');
  const all = db.prepare('SELECT * FROM domains ORDER BY hostname');
  const due = db.prepare(
    `SELECT * FROM domains WHERE status IN ('pending_dns', 'verified', 'failed')
       AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY next_attempt_at`,
  );
  const setOptions = db.prepare(
    'UPDATE domains SET redirect_to_https = @redirect_to_https, hsts = @hsts, updated_at = @updated_at WHERE id = @id',
  );
  const setStatus = db.prepare(
    `UPDATE domains SET status = @status, reason = @reason, next_attempt_at = @next_attempt_at,
       attempts = COALESCE(@attempts, attempts),
       last_check = CASE WHEN @keep_check = 1 THEN last_check ELSE @last_check END,
       proven_at = CASE WHEN proven_at IS NULL AND @status != 'pending_dns' THEN @updated_at ELSE proven_at END,
       updated_at = @updated_at
     WHERE id = @id AND (@from IS NULL OR status IN (SELECT value FROM json_each(@from)))`,
  );
  const hosts = db.prepare(
    `SELECT d.hostname, p.name AS project, d.redirect_to_https, d.hsts, d.status, d.ownership_token
       FROM domains d JOIN projects p ON p.id = d.project_id ORDER BY d.hostname`,
  );
  const host = db.prepare(
    `SELECT d.hostname, p.name AS project, d.redirect_to_https, d.hsts, d.status, d.ownership_token
       FROM domains d JOIN projects p ON p.id = d.project_id WHERE d.id = ?`,
  );
  const remove = db.prepare('DELETE FROM domains WHERE id = ?');
  return {
    insert: (row: DomainRow) => void insert.run(row),
    byHostname: (hostname: string) => byHostname.get(hostname) as DomainRow | undefined,
    byId: (id: string) => byId.get(id) as DomainRow | undefined,
    ofProject: (projectId: string) => ofProject.all(projectId) as DomainRow[],
    all: () => all.all() as DomainRow[],
    /** Domains whose next check or order is due at `now` (ISO 8601): pending, verified and failed ones. */
    due: (now: string) => due.all(now) as DomainRow[],
    setOptions: (id: string, options: { redirect_to_https: number; hsts: number }) =>
      void setOptions.run({ id, ...options, updated_at: new Date().toISOString() }),
    /**
     * Writes a status change; with `from`, only while the domain is in one of those states.
     * Returns whether the row changed (false: no such domain, or it has moved on meanwhile).
     */
    setStatus(id: string, change: DomainStatusChange, from?: readonly DomainStatus[]): boolean {
      return (
        setStatus.run({
          id,
          status: change.status,
          reason: change.reason,
          next_attempt_at: change.next_attempt_at,
          attempts: change.attempts ?? null,
          keep_check: change.last_check === undefined ? 1 : 0,
          last_check: change.last_check ?? null,
          updated_at: new Date().toISOString(),
          from: from ? JSON.stringify(from) : null,
        }).changes > 0
      );
    },
    remove: (id: string) => remove.run(id).changes > 0,
    /** Every domain with its project's name and options, as the edge routes them. */
    hosts: () => hosts.all() as DomainHostRow[],
    /** One domain as the edge routes it, or undefined. */
    host: (id: string) => host.get(id) as DomainHostRow | undefined,
  };
}

/** The domains repository. */
export type DomainRepo = ReturnType<typeof domainRepo>;
