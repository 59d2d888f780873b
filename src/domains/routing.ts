/**
 * Which domains the edge routes. A domain whose owner must prove it (added by a non-admin token)
 * is routed only once a check has passed, so an unproven claim on someone else's name never takes
 * its traffic; a name that has become one of the agent's own is never routed as a domain.
 */
import type { DomainHostRow, DomainRepo } from '../db/domains.ts';
import type { HostEntry } from '../edge/route-store.ts';
import { type OwnNames, refusal } from './hostname.ts';

/** Whether the edge routes `row` to its project. */
export function isRoutable(
  row: Pick<DomainHostRow, 'hostname' | 'status' | 'ownership_token'>,
  own: OwnNames,
): boolean {
  if (refusal(row.hostname, own) !== null) return false;
  return row.ownership_token === null || row.status !== 'pending_dns';
}

/** The route store's entry of a domain. */
export function hostEntry(row: DomainHostRow): HostEntry {
  return {
    hostname: row.hostname,
    project: row.project,
    redirectToHttps: row.redirect_to_https === 1,
    hsts: row.hsts === 1,
  };
}

/** The parts of the edge that routing writes. */
export interface HostEdge {
  putHost(host: HostEntry): number;
  removeHost(hostname: string): number;
}

/** Puts domain `id` on the edge or takes it off, as its row now says. */
export function routeDomain(repo: Pick<DomainRepo, 'host'>, edge: HostEdge, own: OwnNames, id: string): void {
  const row = repo.host(id);
  if (!row) return;
  if (isRoutable(row, own)) edge.putHost(hostEntry(row));
  else edge.removeHost(row.hostname);
}
