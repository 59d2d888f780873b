/**
 * The engine reads an idle agent makes on every pass, with a plain GET of its own instead of
 * dockerode's: listing containers (the reconciler, the route follower, recovery), the engine's info
 * and a network's inspection (the build isolation check). Answering them through dockerode loads it,
 * docker-modem, node:http's client and node:stream in every idle agent, about 3 MiB of resident
 * memory (the code those run and the objects they keep), although only a deploy, an exec, logs or a
 * lifecycle action need them. Each read asks the same path with the same query and resolves or
 * rejects as dockerode's would: the parsed JSON, an error with `statusCode`, `reason` and `json` when
 * the engine answered otherwise (`(HTTP code 404) no such network - …`), one with the socket's
 * `code` (`ECONNREFUSED`, `ENOENT`…) when it was not reached.
 */
import type Docker from 'dockerode';
import type { Config } from '../config.ts';
import { unixGet } from './unix-get.ts';

/** Where the engine listens: its unix socket, or DOCKER_HOST's host and port (2376 for https, else 2375). */
export type EngineAddress =
  | { socket: string }
  | { socket: null; protocol: 'http' | 'https'; host: string; port: number };

/** The engine's address from the settings, as createDockerClient reads it. */
export function engineAddress(config: Pick<Config, 'dockerHost'>): EngineAddress {
  const url = new URL(config.dockerHost || 'unix:///var/run/docker.sock');
  if (url.protocol === 'unix:') return { socket: url.pathname };
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return { socket: null, protocol, host: url.hostname, port: Number(url.port || (protocol === 'https' ? 2376 : 2375)) };
}

/** An engine that could not be reached: the socket's error code and node's message for it. */
export class EngineConnectError extends Error {
  constructor(
    readonly code: string,
    address: string,
  ) {
    super(`connect ${code} ${address}`);
  }
}

/**
 * A GET of `path` from the engine; rejects with an EngineConnectError when it is not reached. On
 * the socket (the default) it is the agent's own request on its main loop (src/runtime/unix-get.ts);
 * DOCKER_HOST's tcp and https addresses go through Bun's fetch.
 */
export async function engineGet(at: EngineAddress, path: string): Promise<Response> {
  if (at.socket === null) {
    const address = `${at.host}:${at.port}`;
    return fetch(`${at.protocol}://${address}${path}`).catch((err: unknown) => {
      throw new EngineConnectError((err as { code?: string }).code ?? 'failed', address);
    });
  }
  const socket = at.socket;
  const answer = await unixGet(socket, path).catch((err: unknown) => {
    const code = (err as { code?: string }).code;
    throw code ? new EngineConnectError(code, socket) : err;
  });
  if (answer.status < 200) throw new Error(`The engine answered GET ${path.split('?')[0]} with ${answer.status}`);
  // The callers read the status and the body only.
  return new Response(answer.body, { status: answer.status });
}

/** The reads, as dockerode's methods of the same names take and answer them. */
export interface EngineReads {
  listContainers(options?: Docker.ContainerListOptions): Promise<Docker.ContainerInfo[]>;
  info(): Promise<unknown>;
  inspectNetwork(id: string): Promise<Docker.NetworkInspectInfo>;
}

/** The reads of the engine at `config.dockerHost` (the socket by default). */
export function engineReads(config: Pick<Config, 'dockerHost'>): EngineReads {
  const at = engineAddress(config);
  return {
    listContainers: (options = {}) =>
      read(at, `/containers/json?${query(options)}`, { 400: 'bad parameter', 500: 'server error' }),
    info: () => read(at, '/info', { 500: 'server error' }),
    inspectNetwork: (id) =>
      read(at, `/networks/${id}?`, {
        404: 'no such network',
        500: 'server error',
      }) as Promise<Docker.NetworkInspectInfo>,
  };
}

/** docker-modem's query string: objects (filters) as JSON, arrays as repeated keys, the rest as text. */
function query(options: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(options)) {
    if (Array.isArray(value)) for (const v of value) params.append(key, String(v));
    else if (value && typeof value === 'object') params.append(key, JSON.stringify(value));
    else params.append(key, value === undefined || value === null ? '' : String(value));
  }
  return params.toString();
}

/** An error as docker-modem makes it for an answer it did not expect. */
export interface EngineAnswerError extends Error {
  statusCode: number;
  reason: string | undefined;
  json: unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: the engine's JSON, typed by each caller as dockerode types it
async function read(at: EngineAddress, path: string, reasons: Record<number, string>): Promise<any> {
  const res = await engineGet(at, path);
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: docker-modem keeps the body as it came.
  }
  if (res.status === 200) return json;
  const cause = json as { message?: string; error?: string } | string;
  const detail = typeof cause === 'object' && cause !== null ? (cause.message ?? cause.error ?? text) : cause;
  const err = new Error(
    `(HTTP code ${res.status}) ${reasons[res.status] ?? 'unexpected'} - ${detail} `,
  ) as EngineAnswerError;
  err.reason = reasons[res.status];
  err.statusCode = res.status;
  err.json = json;
  throw err;
}
