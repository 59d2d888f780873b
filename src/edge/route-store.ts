/**
 * The route store, `<data-dir>/edge/routes.db`: a small SQLite file holding only what the edge
 * serves (each project's hostnames and targets) and a version. The API writes it; the edge opens it
 * read-only and, once installed, runs as a user that may only read it.
 *
 * It keeps a rollback journal (journal_mode=DELETE), not WAL: every WAL reader must write the
 * `-shm` index, so an edge without write access could not read a WAL database at all. With a
 * rollback journal a reader needs read permission on the file and search permission on its
 * directory, nothing more. The journal exists only while the API commits, under a lock readers
 * respect, and SQLite gives it the database file's mode. One case remains: if the API dies in the
 * middle of a commit, the journal it leaves is "hot" and only a writer may roll it back, so reads
 * fail until the API opens the store again; the edge keeps serving the routes it last applied.
 */
import Database from 'better-sqlite3/linux-x64';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Route } from './route-table.ts';

/** Which store, and which version of its table: what the edge reports it applied. */
export interface StoreHead {
  /** Made when the file is created, so a re-created store never passes for the old one. */
  storeId: string;
  /** Raised by every write. */
  version: number;
}

/** The whole table at one version. */
export interface RouteSnapshot extends StoreHead {
  routes: Route[];
}

/** The layout of the file; PRAGMA user_version records it. */
export const ROUTE_STORE_SCHEMA = 1;

const SCHEMA = `
CREATE TABLE routes (
  project   TEXT PRIMARY KEY,
  hostnames TEXT NOT NULL,  -- JSON array of custom hostnames
  targets   TEXT NOT NULL   -- JSON array of "127.0.0.1:port"
) WITHOUT ROWID;
CREATE TABLE head (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  store_id TEXT NOT NULL,
  version  INTEGER NOT NULL
);`;

/** The store's mode: the group (the edge's, once installed) may read it, and only the owner write. */
const FILE_MODE = 0o640;

/** The API's handle on the store; each write returns the version it made. */
export interface RouteStore {
  put(route: Route): number;
  remove(project: string): number;
  /** Replaces the whole table in one version. */
  replaceAll(routes: Route[]): number;
  head(): StoreHead;
  close(): void;
}

/**
 * The writer of the store at `file`. The file is opened (and created) on first use, so a command
 * that never publishes routes, such as `slipway tokens create` run as root, never creates it with
 * the wrong owner.
 */
export function routeStore(file: string): RouteStore {
  let open: ReturnType<typeof openWriter> | null = null;
  const store = () => (open ??= openWriter(file));
  return {
    put: (route) => store().write(() => store().upsert.run(toRow(route))),
    remove: (project) => store().write(() => store().remove.run(project)),
    replaceAll: (routes) =>
      store().write(() => {
        store().clear.run();
        for (const route of routes) store().upsert.run(toRow(route));
      }),
    head: () => store().head.get() as StoreHead,
    close: () => {
      open?.db.close();
      open = null;
    },
  };
}

function openWriter(file: string) {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  chmodSync(file, FILE_MODE);
  db.pragma('journal_mode = DELETE');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > ROUTE_STORE_SCHEMA) {
    db.close();
    throw newerStore(file, version);
  }
  if (version === 0) {
    db.transaction(() => {
      db.exec(SCHEMA);
      db.prepare('INSERT INTO head (id, store_id, version) VALUES (1, ?, 0)').run(crypto.randomUUID());
      db.pragma(`user_version = ${ROUTE_STORE_SCHEMA}`);
    })();
  }
  const bump = db.prepare('UPDATE head SET version = version + 1 RETURNING version');
  return {
    db,
    upsert: db.prepare(
      `INSERT INTO routes (project, hostnames, targets) VALUES (@project, @hostnames, @targets)
       ON CONFLICT (project) DO UPDATE SET hostnames = excluded.hostnames, targets = excluded.targets`,
    ),
    remove: db.prepare('DELETE FROM routes WHERE project = ?'),
    clear: db.prepare('DELETE FROM routes'),
    head: db.prepare('SELECT store_id AS storeId, version FROM head'),
    /** Runs `change` and raises the version, in one transaction; returns the new version. */
    write: db.transaction((change: () => void): number => {
      change();
      return (bump.get() as { version: number }).version;
    }),
  };
}

/**
 * The edge's read-only view of the store. It never waits for a lock (a busy store throws
 * SQLITE_BUSY at once, and the caller tries again on its next poll), since a wait would stall
 * every request the edge is proxying. A store that does not exist yet, or whose file was replaced,
 * is picked up when it appears.
 */
export class RouteStoreReader {
  private open: ReturnType<typeof openReader> = null;
  private opened = '';

  constructor(readonly file: string) {}

  /** The store's id and version, or null while it does not exist yet. */
  head(): StoreHead | null {
    const open = this.connection();
    return open ? (open.head.get() as StoreHead) : null;
  }

  /** The whole table and its version, read in one transaction; null while the store does not exist. */
  snapshot(): RouteSnapshot | null {
    return this.connection()?.snapshot() ?? null;
  }

  /** Closes the file. */
  close(): void {
    this.open?.db.close();
    this.open = null;
    this.opened = '';
  }

  private connection(): ReturnType<typeof openReader> {
    const identity = fileIdentity(this.file);
    if (identity !== this.opened) this.close();
    if (identity !== null && !this.open) {
      this.open = openReader(this.file);
      if (this.open) this.opened = identity;
    }
    return this.open;
  }
}

/** Opens the store read-only with its statements; null when its tables are not committed yet. */
function openReader(file: string) {
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 0 });
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === 0 || version > ROUTE_STORE_SCHEMA) {
    db.close(); // 0: created by the API a moment ago, its tables not committed yet
    if (version === 0) return null;
    throw newerStore(file, version);
  }
  const head = db.prepare('SELECT store_id AS storeId, version FROM head');
  const routes = db.prepare('SELECT project, hostnames, targets FROM routes ORDER BY project');
  const snapshot = db.transaction(
    (): RouteSnapshot => ({ ...(head.get() as StoreHead), routes: (routes.all() as RouteRow[]).map(fromRow) }),
  );
  return { db, head, snapshot: () => snapshot() };
}

/** True for the error a reader gets while the API holds the store's write lock. */
export function isBusy(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'SQLITE_BUSY';
}

interface RouteRow {
  project: string;
  hostnames: string;
  targets: string;
}

function toRow(route: Route): RouteRow {
  return { project: route.project, hostnames: JSON.stringify(route.hostnames), targets: JSON.stringify(route.targets) };
}

function fromRow(row: RouteRow): Route {
  return {
    project: row.project,
    hostnames: JSON.parse(row.hostnames) as string[],
    targets: JSON.parse(row.targets) as string[],
  };
}

/** The device and inode of `file`, or null when it does not exist. */
function fileIdentity(file: string): string | null {
  try {
    const s = statSync(file);
    return `${s.dev}:${s.ino}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function newerStore(file: string, version: number): Error {
  return new Error(
    `Cannot read the route store ${file}: its layout ${version} is newer than this Slipway (${ROUTE_STORE_SCHEMA}); upgrade Slipway`,
  );
}
