/** Custom domains as the edge routes them. */
import type { DomainRepo } from '../db/domains.ts';
import type { HostEntry } from '../edge/route-store.ts';

/** Every domain as a route store host entry: what publishAll writes beside the routes at each start. */
export function hostEntries(repo: Pick<DomainRepo, 'hosts'>): HostEntry[] {
  return repo.hosts().map((h) => ({
    hostname: h.hostname,
    project: h.project,
    redirectToHttps: h.redirect_to_https === 1,
    hsts: h.hsts === 1,
  }));
}
