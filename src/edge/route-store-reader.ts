/**
 * The edge's side of the route store (see route-store.ts): a read-only view that never takes a
 * lock the API waits for.
 */
import { statSync } from 'node:fs';
import { betterSqlite, bunSqlite } from '../lazy-libraries.ts';
import {
  fromRow,
  newerStore,
  ROUTE_STORE_SCHEMA,
  type CertificateRow,
  type ChallengeRow,
  type HostRow,
  type RouteRow,
  type RouteSnapshot,
  type StoreHead,
} from './route-store.ts';

/**
 * The edge's read-only view of the store. It never waits for a lock (a busy store throws
 * SQLITE_BUSY at once, and the caller tries again on its next poll), since a wait would stall
 * every request the edge is proxying. A store that does not exist yet, or whose file was replaced,
 * is picked up when it appears.
 */
export class RouteStoreReader {
  private open: ReturnType<typeof openReader> = null;
  private opened = '';

  /**
   * `library` reads the file: better-sqlite3 by default, the API's own, or Bun's built-in SQLite,
   * which costs an edge process about 9 MiB less. Only an edge in a process of its own may use
   * Bun's: two SQLite libraries in one process ignore each other's locks, so in `--role all` a
   * reader on it would read through the API's half-done commits.
   */
  constructor(
    readonly file: string,
    private readonly library: 'better-sqlite3' | 'bun:sqlite' = 'better-sqlite3',
  ) {}

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
      this.open = openReader(this.file, this.library);
      if (this.open) this.opened = identity;
    }
    return this.open;
  }
}

/** Opens the store read-only with its statements; null when its tables are not committed yet. */
function openReader(file: string, library: 'better-sqlite3' | 'bun:sqlite') {
  // Neither waits for a lock: better-sqlite3 is told so, Bun's SQLite has no busy timeout by default.
  const db: ReadConnection =
    library === 'bun:sqlite'
      ? new (bunSqlite().Database)(file, { readonly: true })
      : new (betterSqlite())(file, { readonly: true, fileMustExist: true, timeout: 0 });
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  if (version === 0 || version > ROUTE_STORE_SCHEMA) {
    db.close(); // 0: created by the API a moment ago, its tables not committed yet
    if (version === 0) return null;
    throw newerStore(file, version);
  }
  const head = db.prepare('SELECT store_id AS storeId, version FROM head');
  const routes = db.prepare('SELECT project, hostnames, targets FROM routes ORDER BY project');
  // A layout 1 store (written by an older API that has not restarted yet) has routes only.
  const hosts = version >= 2 ? db.prepare('SELECT * FROM hosts ORDER BY hostname') : null;
  const certificates = version >= 2 ? db.prepare('SELECT * FROM certificates ORDER BY hostname') : null;
  const challenges = version >= 2 ? db.prepare('SELECT * FROM challenges WHERE expires_at > ?') : null;
  const snapshot = db.transaction(
    (): RouteSnapshot => ({
      ...(head.get() as StoreHead),
      routes: (routes.all() as RouteRow[]).map(fromRow),
      hosts: ((hosts?.all() ?? []) as HostRow[]).map((r) => ({
        hostname: r.hostname,
        project: r.project,
        redirectToHttps: r.redirect_to_https === 1,
        hsts: r.hsts === 1,
      })),
      certificates: ((certificates?.all() ?? []) as CertificateRow[]).map((r) => ({
        hostname: r.hostname,
        certPem: r.cert_pem,
        keyPem: r.key_pem,
        notAfter: r.not_after,
      })),
      challenges: ((challenges?.all(new Date().toISOString()) ?? []) as ChallengeRow[]).map((r) => ({
        path: r.path,
        body: r.body,
        expiresAt: r.expires_at,
      })),
    }),
  );
  return { db, head, snapshot: () => snapshot() };
}

/** True for the error a reader gets while the API holds the store's write lock. */
export function isBusy(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'SQLITE_BUSY';
}

/** What the reader uses of a connection, the same in better-sqlite3 and Bun's SQLite. */
interface ReadConnection {
  prepare(sql: string): { get(...params: string[]): unknown; all(...params: string[]): unknown[] };
  transaction<T>(fn: () => T): () => T;
  close(): void;
}

/** The device and inode of `file`, or null when it does not exist (not an exception: the edge asks at every pass). */
function fileIdentity(file: string): string | null {
  const s = statSync(file, { throwIfNoEntry: false });
  return s ? `${s.dev}:${s.ino}` : null;
}
