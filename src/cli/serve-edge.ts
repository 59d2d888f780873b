/**
 * `slipway serve --role edge`: the edge on its own. It reads the route store and writes its state
 * file, and opens nothing else: not slipway.db, not the master key, not the admin token. This
 * module's imports are kept to the edge's own for that reason (test/cli/serve-edge.test.ts walks
 * them), so that the edge can run as a user that may read none of those.
 */
import { formatListen, type Config } from '../config.ts';
import { startEdge } from '../edge/runtime.ts';
import { createLogger } from '../log.ts';
import { EDGE_TRIM_POLICY, startMemoryTrim } from '../ops/memory-trim.ts';
import { VERSION } from '../version.ts';

/** Starts the edge; returns what stops it. */
export function serveEdge(config: Config): (() => Promise<void> | void)[] {
  const log = createLogger(config.logLevel);
  const edge = startEdge(config, log);
  const http = formatListen({ hostname: config.httpListen.hostname, port: edge.port });
  const https = config.httpsListen && formatListen({ hostname: config.httpsListen.hostname, port: edge.httpsPort! });
  log.info('slipway edge started', { version: VERSION, http, ...(https ? { https } : {}) });
  console.log(`Slipway ${VERSION}: edge listening on http://${http}${https ? ` and https://${https}` : ''}`);
  const stopTrim = startMemoryTrim(log, EDGE_TRIM_POLICY);
  return [stopTrim, () => edge.stop()];
}
