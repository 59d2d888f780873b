import type { Db } from './open.ts';

/** Where a platform host name's certificate stands: pending → issuing → active, or failed. */
export type PlatformHostStatus = 'pending' | 'issuing' | 'active' | 'failed';

/** A row of the platform_hosts table: a name Slipway orders a certificate for without a domain row. */
export interface PlatformHostRow {
  hostname: string;
  /** The project whose default host name it is; null for the API domain. */
  project_id: string | null;
  status: PlatformHostStatus;
  reason: string | null;
  attempts: number;
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
}

/** What a status change writes; attempts keeps its value when omitted. */
export interface PlatformHostChange {
  status: PlatformHostStatus;
  reason: string | null;
  next_attempt_at: string | null;
  attempts?: number;
}

/** Statements on the platform_hosts table, prepared once. */
export function platformHostRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO platform_hosts (hostname, project_id, status, reason, attempts, next_attempt_at, created_at, updated_at)
     VALUES (@hostname, @project_id, 'pending', NULL, 0, NULL, @now, @now) ON CONFLICT (hostname) DO NOTHING`,
  );
  const find = db.prepare('SELECT * FROM platform_hosts WHERE hostname = ?');
  const all = db.prepare('SELECT * FROM platform_hosts ORDER BY hostname');
  const setStatus = db.prepare(
    `UPDATE platform_hosts SET status = @status, reason = @reason, next_attempt_at = @next_attempt_at,
       attempts = COALESCE(@attempts, attempts), updated_at = @updated_at WHERE hostname = @hostname`,
  );
  const remove = db.prepare('DELETE FROM platform_hosts WHERE hostname = ?');
  return {
    /** Adds `hostname` as pending unless it is there already. */
    ensure: (hostname: string, projectId: string | null) =>
      void insert.run({ hostname, project_id: projectId, now: new Date().toISOString() }),
    find: (hostname: string) => find.get(hostname) as PlatformHostRow | undefined,
    all: () => all.all() as PlatformHostRow[],
    setStatus(hostname: string, change: PlatformHostChange): void {
      setStatus.run({
        hostname,
        status: change.status,
        reason: change.reason,
        next_attempt_at: change.next_attempt_at,
        attempts: change.attempts ?? null,
        updated_at: new Date().toISOString(),
      });
    },
    remove: (hostname: string) => remove.run(hostname).changes > 0,
  };
}

/** The platform hosts repository. */
export type PlatformHostRepo = ReturnType<typeof platformHostRepo>;
