/** `slipway serve --role api` and `--role all`: the API and the deploy worker, with the edge in-process for `all`. */
import { formatListen, type Config } from '../config.ts';
import { createDeps } from '../deps.ts';
import type { DockerStatus } from '../runtime/docker.ts';
import { apiAdmission } from '../api/shell.ts';
import { listenApi } from '../api/early.ts';
import { startEdge } from '../edge/runtime.ts';
import { recoverInterrupted } from '../jobs/recovery.ts';
import { agentId } from '../db/meta.ts';
import { adminTokenPath, ensureAdminToken } from '../tokens/bootstrap.ts';
import { VERSION } from '../version.ts';
import { startMemoryTrim } from '../ops/memory-trim.ts';
import { BACKGROUND_DELAY_MS, startBackground } from './serve-background.ts';

/** What `serve` runs: what stops it, and a promise that rejects if the agent cannot go on serving. */
export interface Started {
  stops: (() => Promise<void> | void)[];
  failed?: Promise<never>;
}

/**
 * Starts the API and the worker: publishes the whole route table to the route store first (the
 * edge may have missed a change, or, on the first start after an upgrade, the store does not exist
 * yet and the edge waits for it), recovers interrupted deployments, then listens; the whole API app
 * is built on its first request or with the housekeeping (serve-background.ts), shortly after.
 */
export async function serveApi(config: Config, dockerStatus: () => Promise<DockerStatus>): Promise<Started> {
  const deps = createDeps(config, { dockerStatus });
  deps.edge.publishAll();
  const tokenFile = ensureAdminToken(config.dataDir, deps.tokens);
  await recoverInterrupted(deps.lifecycle, deps.docker, deps.log, agentId(deps.db));
  const admit = apiAdmission(deps);
  // Health answers from here on; the route modules are evaluated and the app built on first need.
  const listener = listenApi(
    deps,
    admit,
    {
      hostname: config.apiListen.hostname,
      port: config.apiListen.port,
      // Slipway enforces the upload limit itself, with its own 413 envelope; Bun's cap is a backstop.
      maxRequestBodySize: config.maxUploadBytes * 2 + 1024 * 1024,
      engine: config.apiEngine,
    },
    async () => (await import('../app.ts')).createApp(deps, admit),
    BACKGROUND_DELAY_MS,
  );
  // After the API, so that the edge serving SLIPWAY_API_DOMAIN knows its port when it was 0 (random).
  const apiListen = { hostname: config.apiListen.hostname, port: listener.port };
  // In-process, the edge applies each change the moment it is published, told by the API.
  const edge =
    config.role === 'all'
      ? startEdge({ ...config, apiListen }, deps.log, (listener) => deps.edge.onRouteChange(listener))
      : null;
  const stopBackground = startBackground(deps);
  const api = formatListen(apiListen);
  deps.log.info('slipway started', {
    version: VERSION,
    role: config.role,
    api: `http://${api}`,
    data_dir: config.dataDir,
  });
  console.log(`Slipway ${VERSION}: API listening on http://${api}`);
  if (edge) {
    const http = formatListen({ hostname: config.httpListen.hostname, port: edge.port });
    const https = config.httpsListen && formatListen({ hostname: config.httpsListen.hostname, port: edge.httpsPort! });
    console.log(`Edge listening on http://${http}${https ? ` and https://${https}` : ''}`);
  }
  if (tokenFile) console.log(`Admin token written to ${tokenFile} (mode 0600)`);
  else
    console.log(
      `Data directory ${config.dataDir}; the first admin token is in ${adminTokenPath(config.dataDir)} if it was not moved`,
    );
  // Once the start is done, memory it needed and the idle agent does not is given back.
  const stopTrim = startMemoryTrim(deps.log);
  const stops = [
    () => deps.log.info('shutting down', { role: config.role }),
    () => stopTrim(),
    () => stopBackground(),
    () => listener.stop(),
    async () => edge?.stop(),
    () => deps.close(),
  ];
  return { stops, failed: listener.failed };
}
