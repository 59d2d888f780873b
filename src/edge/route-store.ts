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
 *
 * This file holds what both sides share: what the store holds, its layout version and its rows.
 * The API writes through route-store-writer.ts, the edge reads through route-store-reader.ts.
 */
import type { Route } from './route-table.ts';

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

export interface RouteRow {
  project: string;
  hostnames: string;
  targets: string;
}

export interface HostRow {
  hostname: string;
  project: string;
  redirect_to_https: number;
  hsts: number;
}

export interface CertificateRow {
  hostname: string;
  cert_pem: string;
  key_pem: string;
  not_after: string;
}

export interface ChallengeRow {
  path: string;
  body: string;
  expires_at: string;
}

export function hostRow(host: HostEntry): HostRow {
  return {
    hostname: host.hostname,
    project: host.project,
    redirect_to_https: host.redirectToHttps ? 1 : 0,
    hsts: host.hsts ? 1 : 0,
  };
}

export function certificateRow(c: EdgeCertificate): CertificateRow {
  return { hostname: c.hostname, cert_pem: c.certPem, key_pem: c.keyPem, not_after: c.notAfter };
}

export function toRow(route: Route): RouteRow {
  return { project: route.project, hostnames: JSON.stringify(route.hostnames), targets: JSON.stringify(route.targets) };
}

export function fromRow(row: RouteRow): Route {
  return {
    project: row.project,
    hostnames: JSON.parse(row.hostnames) as string[],
    targets: JSON.parse(row.targets) as string[],
  };
}

/** The error for a store written by a newer Slipway, whose layout this one cannot read or write. */
export function newerStore(file: string, version: number): Error {
  return new Error(
    `Cannot read the route store ${file}: its layout ${version} is newer than this Slipway (${ROUTE_STORE_SCHEMA}); upgrade Slipway`,
  );
}
