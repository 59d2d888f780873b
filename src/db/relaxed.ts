/**
 * Commits that need not reach the disk on their own. slipway.db runs in WAL mode with
 * `synchronous = FULL`: every commit syncs the write-ahead log, a millisecond or more each on a
 * VPS's disk and on the deploy path, where the engine is syncing its own layers at the same time.
 * A commit made with `synchronous = NORMAL` is written to the log but not synced: it survives the
 * agent crashing or being killed (the data is in the kernel's page cache), and it can only be lost
 * if the machine itself goes down before the next synced commit. Because the log is appended in
 * order, the next FULL commit's sync makes every earlier relaxed commit durable too, and WAL keeps
 * the database consistent either way (a torn tail is dropped at recovery, never half-applied).
 *
 * Used for what a later synced commit of the same deployment follows within moments: its log lines
 * (the status change that ends a deployment is synced), the route record written just before
 * a release goes live (the live transaction is synced), and a running deployment's moves to
 * building and deploying (a power cut before it goes live or ends leaves it queued, to be run
 * again, or building, which recovery ends as interrupted). A deployment's insert (the 202 an
 * upload gets), its move to live or its end, tokens and everything else keep their synced commits.
 */
import type { Db } from './open.ts';

/**
 * Returns `relaxed(fn)`, which runs `fn` (its own commit or transaction) with the connection at
 * `synchronous = NORMAL` and puts it back to FULL after. Inside a transaction someone else opened,
 * `fn` runs as it is: that transaction's commit decides, and stays synced.
 */
export function relaxedCommits(db: Db): <T>(fn: () => T) => T {
  // Not prepared once: SQLite applies this pragma when the statement is compiled, not when it runs
  // (and refuses it inside a transaction).
  return <T>(fn: () => T): T => {
    if (db.inTransaction) return fn();
    db.pragma('synchronous = NORMAL');
    try {
      return fn();
    } finally {
      db.pragma('synchronous = FULL');
    }
  };
}
