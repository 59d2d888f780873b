/**
 * Statements prepared by their first use. The repositories prepare each of their statements once,
 * when they are made (about 160 for the agent), and most of those are not run for minutes or ever
 * in a given process: preparing them all cost `serve` ~10 ms of its start, before it could answer.
 * On a connection set up here, `prepare` returns a stand-in that prepares the real statement the
 * first time it is run (or asked something only SQLite knows), then hands its calls straight to it.
 *
 * What changes is when SQLite reads the SQL: an error in a statement surfaces at its first run
 * rather than when its repository is made. `prepareAll` prepares whatever a connection has not yet,
 * so a test can still check that every statement of every repository compiles against the schema.
 */
import type Database from 'better-sqlite3/linux-x64';

type Connection = Database.Database;
type Statement = Database.Statement<unknown[], unknown>;
type Prepare = (sql: string) => Statement;
type Mode = 'pluck' | 'raw' | 'expand' | 'safeIntegers' | 'bind';

const waitingOf = new WeakMap<Connection, Set<LazyStatement>>();

/** Makes `db.prepare` lazy; install it after anything else that wraps `prepare` (write counting). */
export function prepareLazily(db: Connection): void {
  if (waitingOf.has(db)) return;
  const prepare = db.prepare.bind(db) as Prepare;
  const waiting = new Set<LazyStatement>();
  waitingOf.set(db, waiting);
  db.prepare = ((sql: string) => new LazyStatement(sql, prepare, waiting)) as unknown as Connection['prepare'];
}

/** Prepares every statement of `db` that has not been yet; throws SQLite's error for the first it refuses. */
export function prepareAll(db: Connection): number {
  const waiting = [...(waitingOf.get(db) ?? [])];
  for (const statement of waiting) statement.prepared();
  return waiting.length;
}

/** The stand-in: run, get, all and iterate become the real statement's own once it exists. */
class LazyStatement {
  private statement: Statement | null = null;
  /** Calls that set how the statement binds or returns (pluck, raw, …), replayed on the real one. */
  private readonly modes: [Mode, unknown[]][] = [];

  constructor(
    readonly source: string,
    private readonly prepare: Prepare,
    private readonly waiting: Set<LazyStatement>,
  ) {
    waiting.add(this);
  }

  /** The real statement, prepared now if it was not. */
  prepared(): Statement {
    if (this.statement) return this.statement;
    const statement = this.prepare(this.source);
    for (const [mode, args] of this.modes) (statement[mode] as (...a: unknown[]) => unknown)(...args);
    this.statement = statement;
    this.waiting.delete(this);
    this.run = statement.run.bind(statement);
    this.get = statement.get.bind(statement);
    this.all = statement.all.bind(statement);
    this.iterate = statement.iterate.bind(statement);
    return statement;
  }

  run(...params: unknown[]) {
    return this.prepared().run(...params);
  }

  get(...params: unknown[]) {
    return this.prepared().get(...params);
  }

  all(...params: unknown[]) {
    return this.prepared().all(...params);
  }

  iterate(...params: unknown[]) {
    return this.prepared().iterate(...params);
  }

  pluck(...args: unknown[]): this {
    return this.mode('pluck', args);
  }

  raw(...args: unknown[]): this {
    return this.mode('raw', args);
  }

  expand(...args: unknown[]): this {
    return this.mode('expand', args);
  }

  safeIntegers(...args: unknown[]): this {
    return this.mode('safeIntegers', args);
  }

  bind(...args: unknown[]): this {
    return this.mode('bind', args);
  }

  get readonly(): boolean {
    return this.prepared().readonly;
  }

  get reader(): boolean {
    return this.prepared().reader;
  }

  columns() {
    return this.prepared().columns();
  }

  private mode(mode: Mode, args: unknown[]): this {
    if (this.statement) (this.statement[mode] as (...a: unknown[]) => unknown)(...args);
    else this.modes.push([mode, args]);
    return this;
  }
}
