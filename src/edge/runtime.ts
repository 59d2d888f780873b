import type { Config } from '../config.ts';
import type { EdgeRepo } from '../db/edge.ts';
import type { Logger } from '../log.ts';
import { EdgeProxy } from './proxy.ts';
import { EdgeSync } from './sync.ts';

/** A running edge: the proxy listening on SLIPWAY_HTTP_LISTEN, fed from the route table. */
export interface RunningEdge {
  proxy: EdgeProxy;
  port: number;
  stop(): Promise<void>;
}

/** Starts the edge: applies the stored routes first, then listens, then keeps polling. */
export function startEdge(
  config: Config,
  repo: EdgeRepo,
  log: Logger,
  publishStats?: (json: string) => void,
): RunningEdge {
  const proxy = new EdgeProxy({
    baseDomain: config.baseDomain,
    drainTimeoutMs: config.drainTimeoutSeconds * 1000,
    trustedProxies: config.trustedProxies,
    log,
  });
  const sync = new EdgeSync(repo, proxy, log, publishStats);
  sync.start();
  const port = proxy.listen(config.httpListen.hostname, config.httpListen.port);
  return {
    proxy,
    port,
    async stop() {
      sync.stop();
      await proxy.stop();
    },
  };
}
