/**
 * Domains whose name has become one of the agent's own since they were added: SLIPWAY_API_DOMAIN
 * set to a tenant's name, or SLIPWAY_BASE_DOMAIN changed so the name falls under it. Such a row
 * would collide with the platform's route and certificate, so it fails for good and leaves the edge.
 */
import type { DomainRepo, DomainRow } from '../db/domains.ts';
import { type OwnNames, refusal } from './hostname.ts';
import type { HostEdge } from './routing.ts';

/** What retiring a domain touches. */
export interface OwnNameDeps {
  repo: Pick<DomainRepo, 'setStatus' | 'all'>;
  edge: HostEdge;
  own: OwnNames;
}

/** Why `hostname` may no longer be a domain, as its reason; null while it may. */
export function ownNameReason(hostname: string, own: OwnNames): string | null {
  const why = refusal(hostname, own);
  return why === null ? null : `${hostname} is now one of the agent's own names (${why}); remove this domain`;
}

/**
 * Fails `row` with no next attempt and takes it off the edge when its name is now one of the
 * agent's own; returns whether it is.
 */
export function retireOwnName(d: OwnNameDeps, row: DomainRow): boolean {
  const reason = ownNameReason(row.hostname, d.own);
  if (reason === null) return false;
  if (row.status === 'failed' && row.reason === reason && row.next_attempt_at === null) return true;
  d.repo.setStatus(row.id, { status: 'failed', reason, next_attempt_at: null }, [row.status]);
  d.edge.removeHost(row.hostname);
  return true;
}

/** Retires every domain whose name is now one of the agent's own. */
export function retireOwnNames(d: OwnNameDeps): void {
  for (const row of d.repo.all()) retireOwnName(d, row);
}
