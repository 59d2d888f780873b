/** Custom domains as the edge routes them. */
import type { DomainRepo } from '../db/domains.ts';
import type { HostEntry } from '../edge/route-store.ts';
import type { OwnNames } from './hostname.ts';
import { hostEntry, isRoutable } from './routing.ts';

/** Every routable domain as a route store host entry: what publishAll writes beside the routes at each start. */
export function hostEntries(repo: Pick<DomainRepo, 'hosts'>, own: OwnNames): HostEntry[] {
  return repo
    .hosts()
    .filter((h) => isRoutable(h, own))
    .map(hostEntry);
}
