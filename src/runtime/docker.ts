import type Docker from 'dockerode';
import type { Config } from '../config.ts';
import { engineAddress, engineGet, type EngineReads } from './engine-reads.ts';

/**
 * The one place a Docker client is made; everything else receives it. dockerode (and ssh2 under
 * it) is loaded here, on first use, not when the module is imported: a CLI command that never
 * talks to Docker (`--help`, `status`) does not pay for evaluating it.
 */
export function createDockerClient(config: Pick<Config, 'dockerHost'>): Docker {
  const Docker = require('dockerode') as typeof import('dockerode');
  const at = engineAddress(config);
  if (at.socket !== null) return new Docker({ socketPath: at.socket });
  return new Docker({ host: at.host, port: at.port, protocol: at.protocol });
}

/**
 * A Docker client made by its first use: the agent hands it to its services when it is wired, but
 * nothing on the way to its first health answer calls the engine through it (health asks with
 * engineVersion), so dockerode's evaluation and the client's setup (~5 ms of CPU) happen after
 * that, at the first deploy, exec or lifecycle action that needs it. The reads of `reads`
 * (`listContainers`, `info`, a network's `inspect`), which the idle agent's passes make, never make
 * it. Every other property read, write and method call goes to the client `create` made (methods are
 * called on it, not on this).
 */
export function lazyDockerClient(create: () => Docker, reads?: EngineReads): Docker {
  let made: Docker | undefined;
  const real = () => (made ??= create());
  const own: Record<PropertyKey, unknown> = {};
  if (reads) {
    own.listContainers = (options?: Docker.ContainerListOptions) => reads.listContainers(options);
    own.info = () => reads.info();
    // A network whose `inspect` is a light read; anything else goes to dockerode's Network for `id`.
    own.getNetwork = (id: string) =>
      madeOnUse(() => real().getNetwork(id), { id, inspect: () => reads.inspectNetwork(id) });
  }
  return madeOnUse(real, own);
}

/**
 * An object that stands for the one `make` returns, made on first use: `own`'s properties are
 * answered from `own`, every other property read, write and method call goes to the made object
 * (methods are called on it, not on this).
 */
function madeOnUse<T extends object>(make: () => T, own: Record<PropertyKey, unknown>): T {
  let made: T | undefined;
  const real = () => (made ??= make());
  return new Proxy({} as T, {
    get(_, key) {
      if (Object.hasOwn(own, key)) return own[key];
      const value = Reflect.get(real(), key);
      return typeof value === 'function' ? value.bind(real()) : value;
    },
    set: (_, key, value) => Reflect.set(real(), key, value),
    has: (_, key) => Reflect.has(real(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
  });
}

/** What a Docker ping found. */
export interface DockerStatus {
  ok: boolean;
  version: string | null;
  error: string | null;
}

/** What a ping asks: the engine's version (a dockerode client, or engineVersion's plain request). */
export interface VersionSource {
  version(): Promise<unknown>;
}

/**
 * The engine's `GET /version` with Bun's own HTTP client, at the address the Docker client uses
 * (the socket, or `DOCKER_HOST`'s tcp/http/https address). /v1/health needs only this, and
 * dockerode's request path (node:http's client and docker-modem's setup, ~12 ms of CPU on its first
 * call) stood between `serve` and its first health answer. Errors name the address, as node's do.
 */
export function engineVersion(config: Pick<Config, 'dockerHost'>): VersionSource {
  const at = engineAddress(config);
  const address = at.socket ?? `${at.host}:${at.port}`;
  return {
    version: async () => {
      const res = await engineGet(at, '/version');
      if (!res.ok) throw new Error(`the engine at ${address} answered ${res.status}`);
      return res.json();
    },
  };
}

/** Asks the engine for its version, giving up after `timeoutMs`; never throws. */
export async function pingDocker(docker: VersionSource, timeoutMs = 2000): Promise<DockerStatus> {
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
export function dockerStatusCache(docker: VersionSource, maxAgeMs = 1000): () => Promise<DockerStatus> {
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
