import type Docker from 'dockerode';
import type { Config } from '../config.ts';

/**
 * The one place a Docker client is made; everything else receives it. dockerode (and ssh2 under
 * it) is loaded here, on first use, not when the module is imported: a CLI command that never
 * talks to Docker (`--help`, `status`) does not pay for evaluating it.
 */
export function createDockerClient(config: Pick<Config, 'dockerHost'>): Docker {
  const Docker = require('dockerode') as typeof import('dockerode');
  if (!config.dockerHost) return new Docker({ socketPath: '/var/run/docker.sock' });
  const url = new URL(config.dockerHost);
  if (url.protocol === 'unix:') return new Docker({ socketPath: url.pathname });
  return new Docker({
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 2376 : 2375)),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
  });
}

/** What a Docker ping found. */
export interface DockerStatus {
  ok: boolean;
  version: string | null;
  error: string | null;
}

/** Asks the engine for its version, giving up after `timeoutMs`; never throws. */
export async function pingDocker(docker: Docker, timeoutMs = 2000): Promise<DockerStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const v = (await Promise.race([docker.version(), timeout])) as { Version?: string };
    return { ok: true, version: v.Version ?? null, error: null };
  } catch (err) {
    return { ok: false, version: null, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The engine's status as /v1/health reports it: one ping at a time, and a result reused for
 * `maxAgeMs` after it arrived. /v1/health is public, so without this every caller could make the
 * agent call the engine once per request; and `serve` starts the first ping as soon as its clients
 * exist, so that its first health answer does not wait for the engine (a ping took 20-60 ms here).
 */
export function dockerStatusCache(docker: Docker, maxAgeMs = 1000): () => Promise<DockerStatus> {
  let current: Promise<DockerStatus> | null = null;
  /** When the current result stops being reused; infinite while its ping is in flight. */
  let freshUntil = 0;
  return () => {
    if (current && performance.now() < freshUntil) return current;
    freshUntil = Number.POSITIVE_INFINITY;
    current = pingDocker(docker).then((status) => {
      freshUntil = performance.now() + maxAgeMs;
      return status;
    });
    return current;
  };
}

/** Socket errors that mean the engine was not reached at all (no answer, so no HTTP status). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** True when a Docker call failed because the engine could not be reached, not because it refused. */
export function engineUnreachable(err: unknown): boolean {
  const { statusCode, code } = (err ?? {}) as { statusCode?: number; code?: string };
  return statusCode === undefined && typeof code === 'string' && UNREACHABLE.has(code);
}

/** Whether the engine has an image by id or reference. */
export function imageExists(docker: Docker, ref: string): Promise<boolean> {
  return docker
    .getImage(ref)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}
