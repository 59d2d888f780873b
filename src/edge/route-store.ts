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
import { chmodSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Route } from './route-table.ts';
import { betterSqlite, bunSqlite } from '../lazy-libraries.ts';

/** Which store, and which version of its table: what the edge reports it applied. */
export interface StoreHead {
  /** Made when the file is created, so a re-created store never passes for the old one. */
  storeId: string;
  /** Raised by every write. */
  version: number;
}

/** A custom host name routed to a project, and how the edge treats its visitors. */
export interface HostEntry {
  /** Normalised: lower case, punycode, no trailing dot. */
  hostname: string;
  project: string;
  /** Send HTTP visitors to HTTPS (301 for GET/HEAD, 308 otherwise) once a certificate covers the name. */
  redirectToHttps: boolean;
  /** Send Strict-Transport-Security on HTTPS responses. */
  hsts: boolean;
}

/** A certificate the edge serves by SNI, with its key in the clear (the store is readable by the edge only). */
export interface EdgeCertificate {
  /** The name it covers: "shop.example.com", or a wildcard "*.apps.example.com". */
  hostname: string;
  /** The leaf certificate followed by its chain. */
  certPem: string;
  keyPem: string;
  notAfter: string;
}

/**
 * A response the edge gives for one exact path on any host, before routing and never redirected:
 * ACME HTTP-01 key authorizations (`/.well-known/acme-challenge/<token>`) and the domain self-check
 * (`/.well-known/slipway-check/<token>`).
 */
export interface Challenge {
  path: string;
  body: string;
  /** The edge ignores it after this time (ISO 8601). */
  expiresAt: string;
}

/** Everything the edge serves, at one version. */
export interface RouteSnapshot extends StoreHead {
  routes: Route[];
  hosts: HostEntry[];
  certificates: EdgeCertificate[];
  challenges: Challenge[];
}

/** What publishAll writes: the whole store but its challenges, which live only minutes. */
export interface StoreContents {
  routes: Route[];
  hosts: HostEntry[];
  certificates: EdgeCertificate[];
}

/** Path prefixes a Challenge may have; the edge answers nothing else this way. */
export const CHALLENGE_PREFIXES = ['/.well-known/acme-challenge/', '/.well-known/slipway-check/'] as const;

/** The layout of the file; PRAGMA user_version records it. 1: routes only; 2: hosts, certificates, challenges. */
export const ROUTE_STORE_SCHEMA = 2;

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

/** What layout 2 adds to layout 1. */
const SCHEMA_2 = `
CREATE TABLE hosts (
  hostname          TEXT PRIMARY KEY,
  project           TEXT NOT NULL,
  redirect_to_https INTEGER NOT NULL,
  hsts              INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE certificates (
  hostname  TEXT PRIMARY KEY,
  cert_pem  TEXT NOT NULL,
  key_pem   TEXT NOT NULL,
  not_after TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE challenges (
  path       TEXT PRIMARY KEY,
  body       TEXT NOT NULL,
  expires_at TEXT NOT NULL
) WITHOUT ROWID;`;

/** The store's mode: the group (the edge's, once installed) may read it, and only the owner write. */
const FILE_MODE = 0o640;

/** The API's handle on the store; each write returns the version it made. */
export interface RouteStore {
  put(route: Route): number;
  remove(project: string): number;
  /** Replaces routes, hosts and certificates in one version (challenges are kept). */
  replaceAll(contents: StoreContents): number;
  putHost(host: HostEntry): number;
  removeHost(hostname: string): number;
  putCertificate(certificate: EdgeCertificate): number;
  removeCertificate(hostname: string): number;
  putChallenge(challenge: Challenge): number;
  removeChallenge(path: string): number;
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
    replaceAll: (contents) =>
      store().write(() => {
        const s = store();
        s.clear.run();
        for (const route of contents.routes) s.upsert.run(toRow(route));
        for (const host of contents.hosts) s.putHost.run(hostRow(host));
        for (const certificate of contents.certificates) s.putCertificate.run(certificateRow(certificate));
        s.dropExpiredChallenges.run(new Date().toISOString());
      }),
    putHost: (host) => store().write(() => store().putHost.run(hostRow(host))),
    removeHost: (hostname) => store().write(() => store().removeHost.run(hostname)),
    putCertificate: (certificate) => store().write(() => store().putCertificate.run(certificateRow(certificate))),
    removeCertificate: (hostname) => store().write(() => store().removeCertificate.run(hostname)),
    putChallenge: (challenge) =>
      store().write(() => {
        if (!CHALLENGE_PREFIXES.some((prefix) => challenge.path.startsWith(prefix))) {
          throw new Error(`Not a challenge path: ${challenge.path}`);
        }
        store().dropExpiredChallenges.run(new Date().toISOString());
        store().putChallenge.run({ path: challenge.path, body: challenge.body, expires_at: challenge.expiresAt });
      }),
    removeChallenge: (path) => store().write(() => store().removeChallenge.run(path)),
    head: () => store().head.get() as StoreHead,
    close: () => {
      open?.db.close();
      open = null;
    },
  };
}

function openWriter(file: string) {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = openIntact(file);
  chmodSync(file, FILE_MODE);
  db.pragma('journal_mode = DELETE');
  // No disk syncs: a change is on every release's switch, and four syncs cost it milliseconds (tens
  // on a busy disk). The store holds nothing of its own: the API republishes it whole from
  // slipway.db at every start (publishAll). The journal still makes each change atomic when the
  // API dies mid-commit; only a machine going down can leave the file damaged, and then it is made
  // anew at the next start (openIntact).
  db.pragma('synchronous = OFF');
  db.pragma('busy_timeout = 5000');
  // Keys in the clear live here: a deleted certificate's key is overwritten, not left in free pages.
  db.pragma('secure_delete = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > ROUTE_STORE_SCHEMA) {
    db.close();
    throw newerStore(file, version);
  }
  if (version < ROUTE_STORE_SCHEMA) {
    db.transaction(() => {
      if (version === 0) {
        db.exec(SCHEMA);
        db.prepare('INSERT INTO head (id, store_id, version) VALUES (1, ?, 0)').run(crypto.randomUUID());
      }
      db.exec(SCHEMA_2);
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
    clear: { run: () => db.exec('DELETE FROM routes; DELETE FROM hosts; DELETE FROM certificates') },
    putHost: db.prepare(
      `INSERT OR REPLACE INTO hosts (hostname, project, redirect_to_https, hsts)
       VALUES (@hostname, @project, @redirect_to_https, @hsts)`,
    ),
    removeHost: db.prepare('DELETE FROM hosts WHERE hostname = ?'),
    putCertificate: db.prepare(
      `INSERT OR REPLACE INTO certificates (hostname, cert_pem, key_pem, not_after)
       VALUES (@hostname, @cert_pem, @key_pem, @not_after)`,
    ),
    removeCertificate: db.prepare('DELETE FROM certificates WHERE hostname = ?'),
    putChallenge: db.prepare(
      'INSERT OR REPLACE INTO challenges (path, body, expires_at) VALUES (@path, @body, @expires_at)',
    ),
    removeChallenge: db.prepare('DELETE FROM challenges WHERE path = ?'),
    dropExpiredChallenges: db.prepare('DELETE FROM challenges WHERE expires_at <= ?'),
    head: db.prepare('SELECT store_id AS storeId, version FROM head'),
    /** Runs `change` and raises the version, in one transaction; returns the new version. */
    write: db.transaction((change: () => void): number => {
      change();
      return (bump.get() as { version: number }).version;
    }),
  };
}

/**
 * Opens the store's file for writing; one that is damaged (a power cut during a change, with syncs
 * off) is deleted with its journal and created anew, under a new store id.
 */
function openIntact(file: string): InstanceType<ReturnType<typeof betterSqlite>> {
  const db = new (betterSqlite())(file);
  let intact = false;
  try {
    intact = db.pragma('quick_check', { simple: true }) === 'ok';
  } catch {
    // SQLITE_CORRUPT or SQLITE_NOTADB: not a database any more.
  }
  if (intact) return db;
  db.close();
  rmSync(file, { force: true });
  rmSync(`${file}-journal`, { force: true });
  return new (betterSqlite())(file);
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

interface RouteRow {
  project: string;
  hostnames: string;
  targets: string;
}

interface HostRow {
  hostname: string;
  project: string;
  redirect_to_https: number;
  hsts: number;
}

interface CertificateRow {
  hostname: string;
  cert_pem: string;
  key_pem: string;
  not_after: string;
}

interface ChallengeRow {
  path: string;
  body: string;
  expires_at: string;
}

function hostRow(host: HostEntry): HostRow {
  return {
    hostname: host.hostname,
    project: host.project,
    redirect_to_https: host.redirectToHttps ? 1 : 0,
    hsts: host.hsts ? 1 : 0,
  };
}

function certificateRow(c: EdgeCertificate): CertificateRow {
  return { hostname: c.hostname, cert_pem: c.certPem, key_pem: c.keyPem, not_after: c.notAfter };
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

/** What the reader uses of a connection, the same in better-sqlite3 and Bun's SQLite. */
interface ReadConnection {
  prepare(sql: string): { get(...params: string[]): unknown; all(...params: string[]): unknown[] };
  transaction<T>(fn: () => T): () => T;
  close(): void;
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
