/**
 * Where the API and the edge meet inside the data directory: two stores, each written by one side
 * and only read by the other. The API publishes the route store (`edge/routes.db`); the edge writes
 * its state (`edge-state/state.json`). Nothing else in the data directory is the edge's business,
 * and once installed it cannot read anything else there (src/install/plan.ts sets the owners).
 */
import { join } from 'node:path';

/** The directory of the route store, relative to the data directory; the API writes it. */
export const ROUTE_STORE_DIR = 'edge';

/** The directory of the edge's state, relative to the data directory; the edge writes it. */
export const EDGE_STATE_DIR = 'edge-state';

/** The route store: the route table the edge serves, published by the API. */
export function routeStoreFile(dataDir: string): string {
  return join(dataDir, ROUTE_STORE_DIR, 'routes.db');
}

/** The edge's report to the API: the route version it applied, what still drains, its counters. */
export function edgeStateFile(dataDir: string): string {
  return join(dataDir, EDGE_STATE_DIR, 'state.json');
}
