import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { edgeStateWriter } from './edge-state.ts';
import { edgeStateFile, routeStoreFile } from './layout.ts';
import { EdgeProxy } from './proxy.ts';
import { RouteStoreReader } from './route-store.ts';
import { EdgeSync } from './sync.ts';

/** A running edge: the proxy listening on SLIPWAY_HTTP_LISTEN, fed from the route store. */
export interface RunningEdge {
  proxy: EdgeProxy;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts the edge: applies the stored routes first, then listens, then keeps polling. Of the data
 * directory it opens only the route store (read-only) and its own state file.
 */
export function startEdge(config: Config, log: Logger): RunningEdge {
  const proxy = new EdgeProxy({
    baseDomain: config.baseDomain,
    drainTimeoutMs: config.drainTimeoutSeconds * 1000,
    trustedProxies: config.trustedProxies,
    log,
  });
  const store = new RouteStoreReader(routeStoreFile(config.dataDir));
  const sync = new EdgeSync(store, edgeStateWriter(edgeStateFile(config.dataDir)), proxy, log);
  sync.start();
  const port = proxy.listen(config.httpListen.hostname, config.httpListen.port);
  return {
    proxy,
    port,
    async stop() {
      sync.stop();
      await proxy.stop();
      store.close();
    },
  };
}
