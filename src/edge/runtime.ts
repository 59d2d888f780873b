import type { Config, ListenAddress } from '../config.ts';
import type { Logger } from '../log.ts';
import { edgeStateWriter } from './edge-state.ts';
import { edgeStateFile, routeStoreFile } from './layout.ts';
import { EdgeProxy } from './proxy.ts';
import { RouteStoreReader } from './route-store-reader.ts';
import { EdgeSync } from './sync.ts';

/** A running edge: the proxy listening on SLIPWAY_HTTP_LISTEN (and SLIPWAY_HTTPS_LISTEN), fed from the route store. */
export interface RunningEdge {
  proxy: EdgeProxy;
  port: number;
  /** The HTTPS listener's port, or null when SLIPWAY_HTTPS_LISTEN is off. */
  httpsPort: number | null;
  stop(): Promise<void>;
}

/**
 * Tells its listener after each change committed to the route store; returns what unsubscribes it
 * (the API's `onRouteChange`, src/release/edge-routes.ts).
 */
export type StoreChanges = (listener: () => void) => () => void;

/**
 * Starts the edge: applies the stored routes and certificates first, then listens, then follows
 * the store (src/edge/sync.ts). Of the data directory it opens only the route store (read-only) and
 * its own state file. With `changes` (the store's writer in the same process: the API, in role all),
 * it reads the store when told of each change instead of watching its directory.
 */
export function startEdge(config: Config, log: Logger, changes?: StoreChanges): RunningEdge {
  const proxy = new EdgeProxy({
    baseDomain: config.baseDomain,
    drainTimeoutMs: config.drainTimeoutSeconds * 1000,
    trustedProxies: config.trustedProxies,
    api: config.apiDomain ? { domain: config.apiDomain, address: apiAddress(config.apiListen) } : null,
    engine: config.edgeEngine,
    tlsAdmission: config.edgeTlsAdmission,
    log,
  });
  // An edge of its own reads the store with Bun's SQLite (see RouteStoreReader); in role all the
  // API's better-sqlite3 writes it in this very process.
  const store = new RouteStoreReader(
    routeStoreFile(config.dataDir),
    config.role === 'edge' ? 'bun:sqlite' : 'better-sqlite3',
  );
  const sync = new EdgeSync(store, edgeStateWriter(edgeStateFile(config.dataDir)), proxy, log, changes !== undefined);
  sync.start();
  const unsubscribe = changes?.(() => sync.tick());
  const port = proxy.listen(config.httpListen.hostname, config.httpListen.port);
  let httpsPort: number | null = null;
  try {
    if (config.httpsListen) httpsPort = proxy.listenHttps(config.httpsListen.hostname, config.httpsListen.port);
  } catch (err) {
    unsubscribe?.();
    sync.stop();
    void proxy.stop().then(() => store.close());
    throw err;
  }
  return {
    proxy,
    port,
    httpsPort,
    async stop() {
      unsubscribe?.();
      sync.stop();
      await proxy.stop();
      store.close();
    },
  };
}

/**
 * Where the edge reaches the API: its listen address, with a wildcard one ("0.0.0.0", "::") made
 * the loopback address of its family, which the API also listens on. Loopback is what the API
 * checks before believing the client address the edge forwards (src/api/client-ip.ts).
 */
export function apiAddress(listen: ListenAddress): string {
  const host = listen.hostname === '0.0.0.0' ? '127.0.0.1' : listen.hostname === '::' ? '::1' : listen.hostname;
  return `${host}:${listen.port}`;
}
