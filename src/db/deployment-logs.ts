import type { Db } from './open.ts';

/** One persisted log line. */
export interface LogRow {
  seq: number;
  at: string;
  line: string;
}

/** Statements on deployment_logs, prepared once. */
export function deploymentLogRepo(db: Db) {
  const insert = db.prepare('INSERT INTO deployment_logs (deployment_id, seq, at, line) VALUES (?, ?, ?, ?)');
  const after = db.prepare(
    'SELECT seq, at, line FROM deployment_logs WHERE deployment_id = ? AND seq > ? ORDER BY seq LIMIT ?',
  );
  const last = db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM deployment_logs WHERE deployment_id = ?');
  const appendAll = db.transaction((deploymentId: string, rows: { seq: number; at: string; line: string }[]) => {
    for (const r of rows) insert.run(deploymentId, r.seq, r.at, r.line);
  });
  return {
    append: (deploymentId: string, seq: number, at: string, line: string) =>
      void insert.run(deploymentId, seq, at, line),
    /** Several lines in one transaction: one commit (and one sync of the log) for all of them. */
    appendAll: (deploymentId: string, rows: { seq: number; at: string; line: string }[]) =>
      void appendAll(deploymentId, rows),
    /** Lines with a sequence number above `seq`, oldest first. */
    after: (deploymentId: string, seq: number, limit: number) => after.all(deploymentId, seq, limit) as LogRow[],
    lastSeq: (deploymentId: string) => (last.get(deploymentId) as { seq: number }).seq,
  };
}

/** The deployment log repository. */
export type DeploymentLogRepo = ReturnType<typeof deploymentLogRepo>;
