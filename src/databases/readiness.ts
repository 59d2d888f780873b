import type Docker from 'dockerode';
import { runCommand } from './exec.ts';
import { DATABASE_PORT, databaseIdentity } from './spec.ts';

const POLL_MS = 250;

/**
 * Polls `pg_isready` over TCP inside the container until the server accepts connections. TCP, not
 * the socket: while the official entrypoint initialises the cluster, its temporary server listens
 * on the socket only. Fails early when the container stops or restarts (a crash loop).
 */
export async function waitUntilReady(
  docker: Docker,
  containerId: string,
  project: string,
  signal: AbortSignal,
): Promise<void> {
  const { user, database } = databaseIdentity(project);
  const probe = ['pg_isready', '-q', '-h', '127.0.0.1', '-p', String(DATABASE_PORT), '-U', user, '-d', database];
  for (;;) {
    signal.throwIfAborted();
    const info = await docker.getContainer(containerId).inspect();
    if (!info.State.Running || info.State.Restarting || info.RestartCount > 0) {
      throw new Error(`the container stopped (exit code ${info.State.ExitCode}) before it accepted connections`);
    }
    // A container that stopped in between refuses the exec (409); the next round says why.
    const result = await runCommand(docker, containerId, probe, {
      user: 'postgres',
      env: ['PGCONNECT_TIMEOUT=2'],
    }).catch((err: { statusCode?: number }) => {
      if (err.statusCode === 409) return null;
      throw err;
    });
    if (result?.exitCode === 0) return;
    await sleep(POLL_MS, signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      if (signal.aborted) reject(signal.reason);
      else resolve();
    }
  });
}
