import { loadConfig, formatListen } from '../config.ts';
import { createDeps } from '../deps.ts';
import { createApp } from '../app.ts';
import { ensureAdminToken, adminTokenPath } from '../tokens/bootstrap.ts';
import { VERSION } from '../version.ts';
import { recoverInterrupted } from '../jobs/recovery.ts';

/** How long in-flight requests get to finish after SIGTERM before the server is closed hard. */
const SHUTDOWN_GRACE_MS = 5000;

/**
 * `slipway serve`: opens the data directory, creates the first admin token if needed and
 * serves the API until SIGTERM or SIGINT. Resolves when it has shut down cleanly.
 */
export async function serve(env: Record<string, string | undefined>, flags: Record<string, string | undefined>): Promise<void> {
  const config = loadConfig(env, flags);
  const deps = createDeps(config);
  const tokenFile = ensureAdminToken(config.dataDir, deps.tokens);
  await recoverInterrupted(deps.deploymentRepo, deps.logs, deps.docker, deps.log);
  const app = createApp(deps);
  app.listen({
    hostname: config.apiListen.hostname,
    port: config.apiListen.port,
    // Slipway enforces the upload limit itself, with its own 413 envelope; Bun's cap is a backstop.
    maxRequestBodySize: config.maxUploadBytes * 2 + 1024 * 1024,
  });
  deps.worker.start();
  const address = formatListen({ hostname: config.apiListen.hostname, port: app.server!.port! });
  deps.log.info('slipway started', { version: VERSION, api: `http://${address}`, data_dir: config.dataDir });
  console.log(`Slipway ${VERSION}: API listening on http://${address}`);
  if (tokenFile) console.log(`Admin token written to ${tokenFile} (mode 0600)`);
  else console.log(`Data directory ${config.dataDir}; the first admin token is in ${adminTokenPath(config.dataDir)} if it was not moved`);

  await new Promise<void>((resolve) => {
    const stop = async (signal: string) => {
      deps.log.info('shutting down', { signal });
      const hard = setTimeout(() => void app.stop(true), SHUTDOWN_GRACE_MS);
      await deps.worker.stop();
      await app.stop();
      clearTimeout(hard);
      deps.close();
      resolve();
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}
