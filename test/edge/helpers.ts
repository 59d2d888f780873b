/**
 * Fixtures for the edge's tests: upstream apps made with Bun.serve (or raw TCP when a test needs
 * bytes Bun.serve would not write), an EdgeProxy on a random port, and ways to call it with a
 * Host header. Everything started here is stopped by `closeAll()`.
 */
import type { Server, TCPSocketListener } from 'bun';
import { connect, type Socket } from 'node:net';
import { EdgeProxy, type EdgeOptions } from '../../src/edge/proxy.ts';
import type { Route } from '../../src/edge/route-table.ts';

const cleanups: (() => unknown)[] = [];

/** Registers something for closeAll() to stop after the current test. */
export function onCleanup(close: () => unknown): void {
  cleanups.push(close);
}

/** Stops every server and proxy the current test started. */
export async function closeAll(): Promise<void> {
  const pending = cleanups.splice(0).reverse();
  for (const close of pending) await close();
}

/** What startEdge gives a test. */
export interface TestEdge {
  edge: EdgeProxy;
  port: number;
  /** Sends a request to the edge as if to `host`. */
  get(host: string, path?: string, init?: RequestInit & { decompress?: boolean }): Promise<Response>;
}

/** The engine the edge tests run on: the default (native), or SLIPWAY_EDGE_ENGINE=node to check the reference. */
const ENGINE = process.env.SLIPWAY_EDGE_ENGINE === 'node' ? ('node' as const) : undefined;

/**
 * HTTPS handshake admission for the edge tests: SLIPWAY_EDGE_TLS_ADMISSION=K (0 runs every
 * connection over the fair path), `off` (node:tls's server), or the edge's default when unset.
 */
const TLS_ADMISSION_ENV = process.env.SLIPWAY_EDGE_TLS_ADMISSION ?? '';
const TLS_ADMISSION =
  TLS_ADMISSION_ENV === 'off' ? null : /^\d+$/.test(TLS_ADMISSION_ENV) ? Number(TLS_ADMISSION_ENV) : undefined;

/** An EdgeProxy for base domain "localhost" on a random port, with the given routes. */
export function startEdge(routes: Route[] = [], opts: Partial<EdgeOptions> = {}): TestEdge {
  const edge = new EdgeProxy({
    baseDomain: 'localhost',
    drainTimeoutMs: 30_000,
    engine: ENGINE,
    tlsAdmission: TLS_ADMISSION,
    ...opts,
  });
  edge.setRoutes(routes);
  const port = edge.listen('127.0.0.1', 0);
  cleanups.push(() => edge.stop());
  const get = (host: string, path = '/', init: RequestInit & { decompress?: boolean } = {}) => {
    const headers = new Headers(init.headers);
    headers.set('host', host);
    return fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual', ...init, headers });
  };
  return { edge, port, get };
}

/** Upstream app type: the handler gets the request and its server, like Bun.serve's fetch. */
type Handler = (req: Request, server: Server<undefined>) => Response | Promise<Response | undefined> | undefined;

/** An upstream app on 127.0.0.1; returns it with its "127.0.0.1:PORT" address. */
export function upstream(
  handler: Handler,
  websocket?: Bun.WebSocketHandler<undefined>,
): { server: Server<undefined>; address: string } {
  const server = Bun.serve<undefined>({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    development: false,
    fetch: handler as never,
    ...(websocket ? { websocket } : {}),
  } as Bun.Serve.Options<undefined>);
  cleanups.push(() => server.stop(true));
  return { server, address: `127.0.0.1:${server.port}` };
}

/** An upstream that answers every request with its name, for routing tests. */
export function namedUpstream(name: string): string {
  return upstream(() => new Response(name)).address;
}

/** A raw TCP upstream: `onRequest` gets each socket's first request head and answers by hand. */
export function rawUpstream(onRequest: (head: string, socket: Bun.Socket<{ buf: string }>) => void): string {
  const listener: TCPSocketListener<{ buf: string }> = Bun.listen<{ buf: string }>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(socket) {
        socket.data = { buf: '' };
      },
      data(socket, chunk) {
        socket.data.buf += chunk.toString('latin1');
        const end = socket.data.buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = socket.data.buf.slice(0, end);
        socket.data.buf = socket.data.buf.slice(end + 4);
        onRequest(head, socket);
      },
    },
  });
  cleanups.push(() => listener.stop(true));
  return `127.0.0.1:${listener.port}`;
}

/** Sends `request` as raw bytes to 127.0.0.1:port and returns everything the server wrote. */
export function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        open: (socket) => void socket.write(request),
        data: (_socket, chunk) => void (got += chunk.toString('latin1')),
        close: () => resolve(got),
        error: (_socket, err) => reject(err),
      },
    }).catch(reject);
  });
}

/** Splits a raw HTTP response into its lowercased header map and body. */
export function parseRaw(raw: string): { status: number; headers: Map<string, string[]>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: raw.slice(end + 4) };
}

/** Resolves once `check` holds, polling every few milliseconds; fails after `ms`. */
export async function until(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Condition not met within ${ms} ms`);
    await Bun.sleep(5);
  }
}

/** A raw TCP connection to the edge that keeps what it receives and notices when it closes. */
export interface RawConnection {
  socket: Socket;
  /** Everything received so far, as latin1. */
  received(): string;
  isClosed(): boolean;
  /** Resolves when the connection closed, with how long after opening. */
  closed: Promise<{ afterMs: number; data: string }>;
}

/** Opens a raw connection to 127.0.0.1:port (from `localAddress`, another 127/8 address, if given). */
export function rawConnection(port: number, localAddress?: string, host = '127.0.0.1'): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const opened = Date.now();
    let data = '';
    let isClosed = false;
    const socket = connect({ host, port, localAddress });
    const closed = new Promise<{ afterMs: number; data: string }>((done) =>
      socket.once('close', () => {
        isClosed = true;
        done({ afterMs: Date.now() - opened, data });
      }),
    );
    socket.on('data', (chunk: Buffer) => void (data += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => data, isClosed: () => isClosed, closed }));
    socket.once('error', reject);
    cleanups.push(() => socket.destroy());
  });
}

/** The raw bytes of a WebSocket handshake for `target` with the given Host header. */
export function websocketHandshake(target = '/socket', host = 'web.localhost'): string {
  return [
    `GET ${target} HTTP/1.1`,
    `Host: ${host}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    '',
    '',
  ].join('\r\n');
}

/** A 127.0.0.1 address nothing listens on: bound once, then closed again. */
export function closedPort(): string {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const address = `127.0.0.1:${listener.port}`;
  listener.stop(true);
  return address;
}
