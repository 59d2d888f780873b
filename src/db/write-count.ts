/**
 * A count of the writes made through one connection, kept in JavaScript so that the read caches
 * (read-cache.ts) can tell that nothing changed without asking SQLite on every lookup (each
 * `SELECT total_changes()` is a native call, about 2.5 µs of a request on a busy socket).
 *
 * It counts more than SQLite's total_changes() does, never less: every run of a statement that
 * SQLite says may write (`!statement.readonly`: INSERT, UPDATE, DELETE, DDL, a writing PRAGMA, with
 * or without RETURNING, whether it changed a row or failed), every `exec` and `pragma`, and the end
 * of every transaction (committed or rolled back), so that a value read inside a transaction that
 * is then rolled back is not kept. It must be installed on a connection before anything prepares a
 * statement on it (openDatabase does).
 */
import type Database from 'better-sqlite3/linux-x64';

type Connection = Database.Database;
type Statement = Database.Statement<unknown[], unknown>;

const counters = new WeakMap<Connection, { writes: number }>();

/** Starts counting the writes of `db`; idempotent. */
export function countWrites(db: Connection): void {
  if (counters.has(db)) return;
  const counter = { writes: 0 };
  counters.set(db, counter);
  const bump = () => void counter.writes++;
  const prepare = db.prepare.bind(db) as (sql: string) => Statement;
  db.prepare = ((sql: string) => {
    const statement = prepare(sql);
    if (!statement.readonly) countRuns(statement, bump);
    return statement;
  }) as Connection['prepare'];
  db.exec = withBump(db.exec.bind(db), bump);
  db.pragma = withBump(db.pragma.bind(db), bump);
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...args: unknown[]) => unknown) =>
    transaction((...args: unknown[]) => {
      try {
        return fn(...args);
      } finally {
        bump();
      }
    })) as Connection['transaction'];
}

/** The live count of writes made through `db` since countWrites; undefined when they are not counted. */
export function writeCounter(db: Connection): { readonly writes: number } | undefined {
  return counters.get(db);
}

function countRuns(statement: Statement, bump: () => void): void {
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    (statement as unknown as Record<string, unknown>)[method] = withBump(statement[method].bind(statement), bump);
  }
}

function withBump<F extends (...args: never[]) => unknown>(fn: F, bump: () => void): F {
  return ((...args: Parameters<F>) => {
    bump();
    return fn(...args);
  }) as F;
}
