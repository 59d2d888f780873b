import type { Db } from './open.ts';
import { relaxedCommits } from './relaxed.ts';

/** One persisted log line. */
export interface LogRow {
  seq: number;
  at: string;
  line: string;
}

/**
 * Statements on deployment_logs, prepared once. Appends are relaxed commits (relaxed.ts): a log line
 * is not synced to disk on its own but by the deployment's next synced commit (its status changes),
 * so a build's hundreds of output lines cost no disk sync each.
 */
export function deploymentLogRepo(db: Db) {
  const relaxed = relaxedCommits(db);
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
      void relaxed(() => insert.run(deploymentId, seq, at, line)),
    /** Several lines in one transaction: one commit for all of them. */
    appendAll: (deploymentId: string, rows: { seq: number; at: string; line: string }[]) =>
      void relaxed(() => appendAll(deploymentId, rows)),
    /** Lines with a sequence number above `seq`, oldest first. */
    after: (deploymentId: string, seq: number, limit: number) => after.all(deploymentId, seq, limit) as LogRow[],
    lastSeq: (deploymentId: string) => (last.get(deploymentId) as { seq: number }).seq,
  };
}

/** The deployment log repository. */
export type DeploymentLogRepo = ReturnType<typeof deploymentLogRepo>;
