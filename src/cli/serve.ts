import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { loadConfig, formatListen, type Config } from '../config.ts';
import { createDeps, type Deps } from '../deps.ts';
import { createApp } from '../app.ts';
import { ensureAdminToken, adminTokenPath } from '../tokens/bootstrap.ts';
import { VERSION } from '../version.ts';
import { recoverInterrupted } from '../jobs/recovery.ts';
import { openDatabase } from '../db/open.ts';
import { edgeRepo } from '../db/edge.ts';
import { publishEdgeStats } from '../db/meta.ts';
import { createLogger, type Logger } from '../log.ts';
import { startEdge, type RunningEdge } from '../edge/runtime.ts';

/** How long in-flight requests get to finish after SIGTERM before the server is closed hard. */
const SHUTDOWN_GRACE_MS = 5000;

/**
 * `slipway serve`: with `--role all` (the default) the API, the deploy worker and the edge in
 * one process; `--role api` and `--role edge` split them so that the edge keeps serving apps
 * while the API/worker restarts or is upgraded. Resolves after a clean shutdown.
 */
export async function serve(
  env: Record<string, string | undefined>,
  flags: Record<string, string | undefined>,
): Promise<void> {
  const config = loadConfig(env, flags);
  const stops: (() => Promise<void> | void)[] = [];
  if (config.role === 'edge') {
    stops.push(...serveEdgeOnly(config));
  } else {
    stops.push(...(await serveApi(config)));
  }
  await new Promise<void>((resolve) => {
    const stop = async () => {
      const hard = setTimeout(resolve, SHUTDOWN_GRACE_MS * 2);
      for (const s of stops) await s();
      clearTimeout(hard);
      resolve();
    };
    process.once('SIGTERM', () => void stop());
    process.once('SIGINT', () => void stop());
  });
}

async function serveApi(config: Config): Promise<(() => Promise<void> | void)[]> {
  const deps = createDeps(config);
  const tokenFile = ensureAdminToken(config.dataDir, deps.tokens);
  await recoverInterrupted(deps.lifecycle, deps.docker, deps.log);
  await prepareBuilds(deps);
  const edge =
    config.role === 'all' ? startEdge(config, deps.edge, deps.log, (json) => publishEdgeStats(deps.db, json)) : null;
  const app = createApp(deps);
  app.listen({
    hostname: config.apiListen.hostname,
    port: config.apiListen.port,
    // Slipway enforces the upload limit itself, with its own 413 envelope; Bun's cap is a backstop.
    maxRequestBodySize: config.maxUploadBytes * 2 + 1024 * 1024,
  });
  const reconcile = startReconciler(deps);
  deps.worker.start();
  const api = formatListen({ hostname: config.apiListen.hostname, port: app.server!.port! });
  deps.log.info('slipway started', {
    version: VERSION,
    role: config.role,
    api: `http://${api}`,
    data_dir: config.dataDir,
  });
  console.log(`Slipway ${VERSION}: API listening on http://${api}`);
  if (edge)
    console.log(`Edge listening on http://${formatListen({ hostname: config.httpListen.hostname, port: edge.port })}`);
  if (tokenFile) console.log(`Admin token written to ${tokenFile} (mode 0600)`);
  else
    console.log(
      `Data directory ${config.dataDir}; the first admin token is in ${adminTokenPath(config.dataDir)} if it was not moved`,
    );
  return [
    () => deps.log.info('shutting down', { role: config.role }),
    () => clearInterval(reconcile),
    () => deps.worker.stop(),
    () => app.stop(),
    async () => edge?.stop(),
    () => deps.close(),
  ];
}

/**
 * Sets up build isolation when running as root (the systemd install runs `slipway prepare-builds`
 * as root before starting the agent as its own user instead), then says whether builds can run:
 * a build is refused while the isolation is not in place, so that is a warning, not a stop.
 */
async function prepareBuilds(deps: Deps): Promise<void> {
  try {
    if (process.getuid?.() === 0) await deps.buildIsolation.prepare();
    const inPlace = await deps.buildIsolation.check();
    if (inPlace.unlimitedBecause)
      deps.log.warn('builds run without a process limit', { reason: inPlace.unlimitedBecause });
  } catch (err) {
    deps.log.warn('builds are refused until build isolation is in place', { error: (err as Error).message });
    console.warn(`Builds are refused until build isolation is in place: ${(err as Error).message}`);
  }
}

function startReconciler(deps: Deps): ReturnType<typeof setInterval> {
  let running = false;
  const pass = async () => {
    if (running) return;
    running = true;
    await deps.reconciler.run().catch((err) => deps.log.warn('reconcile pass failed', { error: String(err) }));
    running = false;
  };
  void pass();
  return setInterval(() => void pass(), deps.config.reconcileIntervalSeconds * 1000);
}

function serveEdgeOnly(config: Config): (() => Promise<void> | void)[] {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const log: Logger = createLogger(config.logLevel);
  const db = openDatabase(join(config.dataDir, 'slipway.db'));
  const edge: RunningEdge = startEdge(config, edgeRepo(db), log, (json) => publishEdgeStats(db, json));
  log.info('slipway edge started', {
    version: VERSION,
    http: formatListen({ hostname: config.httpListen.hostname, port: edge.port }),
  });
  console.log(
    `Slipway ${VERSION}: edge listening on http://${formatListen({ hostname: config.httpListen.hostname, port: edge.port })}`,
  );
  return [() => edge.stop(), () => void db.close()];
}
