import { loadConfig, type Config } from '../config.ts';
import type { Started } from './serve-api.ts';

/** How long in-flight requests get to finish after SIGTERM before the server is closed hard. */
const SHUTDOWN_GRACE_MS = 5000;

/**
 * `slipway serve`: with `--role all` (the default) the API, the deploy worker and the edge in
 * one process; `--role api` and `--role edge` split them so that the edge keeps serving apps
 * while the API/worker restarts or is upgraded. `--role edge` starts from serve-edge.ts alone,
 * which opens nothing of the data directory but the route store and the edge's state file. Each role
 * imports only its own modules, so an edge process never loads the API, SQLite's app schema or Docker.
 * Resolves after a clean shutdown.
 */
export async function serve(
  env: Record<string, string | undefined>,
  flags: Record<string, string | undefined>,
): Promise<void> {
  const config = loadConfig(env, flags);
  const { stops, failed }: Started = config.role === 'edge' ? await serveEdgeOnly(config) : await serveAgent(config);
  await new Promise<void>((resolve, reject) => {
    const stop = async (err?: unknown) => {
      const hard = setTimeout(resolve, SHUTDOWN_GRACE_MS * 2);
      for (const s of stops) await s();
      clearTimeout(hard);
      if (err === undefined) resolve();
      else reject(err);
    };
    process.once('SIGTERM', () => void stop());
    process.once('SIGINT', () => void stop());
    // The API app could not be built after listening (src/api/early.ts): stop, and report why.
    failed?.catch((err: unknown) => void stop(err));
  });
}

/** Imports the edge's own modules only (serve-edge.ts); starts it. */
function serveEdgeOnly(config: Config): Promise<Started> {
  return import('./serve-edge.ts').then(({ serveEdge }) => ({ stops: serveEdge(config) }));
}

/**
 * Starts the agent. Its health reports the engine, so the first engine ping starts before the
 * agent's modules load: the first health answer does not wait for it.
 */
async function serveAgent(config: Config): Promise<Started> {
  const { dockerStatusCache, engineVersion } = await import('../runtime/docker.ts');
  const dockerStatus = dockerStatusCache(engineVersion(config));
  void dockerStatus();
  return (await import('./serve-api.ts')).serveApi(config, dockerStatus);
}
