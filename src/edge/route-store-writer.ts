/**
 * The API's side of the route store (see route-store.ts): it creates the file, migrates its
 * layout and makes every change one transaction that raises the version.
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Route } from './route-table.ts';
import { betterSqlite } from '../lazy-libraries.ts';
import {
  CHALLENGE_PREFIXES,
  certificateRow,
  hostRow,
  newerStore,
  ROUTE_STORE_SCHEMA,
  toRow,
  type Challenge,
  type EdgeCertificate,
  type HostEntry,
  type StoreContents,
  type StoreHead,
} from './route-store.ts';

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
