import type { Db } from './open.ts';

/** A row of the backups table. */
export interface BackupRow {
  id: string;
  trigger: 'api' | 'schedule';
  destination: 'local' | 's3';
  status: 'running' | 'complete' | 'failed';
  location: string | null;
  bytes: number | null;
  sha256: string | null;
  /** The backup's manifest, JSON. */
  manifest: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

/** Statements on the backups table, prepared once. */
export function backupRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO backups (id, trigger, destination, status, location, bytes, sha256, manifest, error, created_at, finished_at)
     VALUES (@id, @trigger, @destination, @status, @location, @bytes, @sha256, @manifest, @error, @created_at, @finished_at)`,
  );
  const finish = db.prepare(
    `UPDATE backups SET status = @status, location = @location, bytes = @bytes, sha256 = @sha256, manifest = @manifest,
       error = @error, finished_at = @finished_at
     WHERE id = @id AND status = 'running'`,
  );
  const find = db.prepare('SELECT * FROM backups WHERE id = ?');
  const list = db.prepare('SELECT * FROM backups WHERE id < @before ORDER BY id DESC LIMIT @limit');
  const complete = db.prepare("SELECT * FROM backups WHERE status = 'complete' AND destination = ? ORDER BY id");
  const lastSuccess = db.prepare("SELECT max(finished_at) AS at FROM backups WHERE status = 'complete'");
  const failures = db.prepare("SELECT count(*) AS n FROM backups WHERE status = 'failed'");
  const remove = db.prepare('DELETE FROM backups WHERE id = ?');
  const interrupted = db.prepare(
    "UPDATE backups SET status = 'failed', error = 'interrupted: the agent stopped during the backup', finished_at = ? WHERE status = 'running'",
  );
  return {
    insert: (row: BackupRow) => void insert.run(row),
    /** Ends a running backup; false when it was not running. */
    finish: (row: BackupRow) => finish.run(row).changes > 0,
    find: (id: string) => find.get(id) as BackupRow | undefined,
    /** Newest first, ids before `before`. */
    list: (q: { before: string; limit: number }) => list.all(q) as BackupRow[],
    complete: (destination: 'local' | 's3') => complete.all(destination) as BackupRow[],
    lastSuccessAt: () => (lastSuccess.get() as { at: string | null }).at,
    failureCount: () => (failures.get() as { n: number }).n,
    remove: (id: string) => void remove.run(id),
    /** Marks backups left running by a stopped agent failed. */
    failInterrupted: (at: string) => interrupted.run(at).changes,
  };
}

/** The backups repository. */
export type BackupRepo = ReturnType<typeof backupRepo>;
