/**
 * Limits on visitors' connections, applied before any request exists (slowloris, connection
 * floods): a cap on open connections per client, and a deadline for each request head.
 *
 * What Bun 1.4.5 does on its own, measured (not documented): both Bun.serve and its node:http
 * server close a connection whose first request head is not complete about 12 s after it opened,
 * whatever idleTimeout says and however steadily bytes trickle in; node:http's headersTimeout and
 * requestTimeout are not enforced; keepAliveTimeout closes a kept-alive connection about a second
 * after it ran out since the last response, trickle or not; Bun.serve's idleTimeout is an
 * inactivity timer that every byte resets (with idleTimeout 2, a stalled partial head went after
 * 8 s, a trickling one only at 12 s). Neither server has a
 * connection hook that could count connections per client (Bun.serve has none at all). So the
 * edge counts them itself, on node:http's 'connection' event, and keeps its own head deadline,
 * which incoming bytes do not move, rather than lean on the undocumented 12 s.
 */
import { plainIp } from './headers.ts';
import { type Deadline, Deadlines, tickFor } from './http1/deadlines.ts';
import { SlotList } from './slot-list.ts';
import { ipBytes } from './trusted-proxies.ts';

/** Most connections one client (an IPv4 address or an IPv6 /64) may hold open on the edge. */
export const MAX_CONNECTIONS_PER_CLIENT = 256;

/** Time a new connection has to deliver a complete request head. */
export const HEADER_TIMEOUT_MS = 10_000;

/** A connection as the guard sees it: a node:net Socket, or a native engine connection. */
export interface GuardedSocket {
  readonly remoteAddress?: string;
  readonly destroyed: boolean;
  destroy(): void;
  end(): void;
  once(event: 'close', listener: () => void): unknown;
}

type Socket = GuardedSocket;

/** How the guard is set up. */
export interface ConnectionLimits {
  maxPerClient: number;
  headerTimeoutMs: number;
  /** Idle time allowed between two requests; the next head must be complete within it plus headerTimeoutMs. */
  idleMs: number;
  /** Peers without a connection cap: trusted proxies carry many visitors over their connections. */
  uncapped: (ip: string | null) => boolean;
  warn: (msg: string, fields?: object) => void;
}

/** What the guard tracks for one connection; its deadline destroys the connection. */
class Tracked implements Deadline {
  due = 0;
  deadlineSlot = -1;
  /** Its index among the guard's open connections, -1 once closed. */
  openSlot = -1;
  /** Requests on the connection that are being answered. */
  busy = 0;

  constructor(
    readonly socket: Socket,
    readonly client: string | null,
  ) {}

  expire(): void {
    this.socket.destroy();
  }
}

/** Refusals are logged at most this often, with how many there were. */
const WARN_EVERY_MS = 60_000;

/** Per-client connection counts and per-connection head deadlines for one listening edge. */
export class ConnectionGuard {
  private readonly perClient = new Map<string, number>();
  private readonly tracked = new WeakMap<Socket, Tracked>();
  /** Every admitted connection until it closes, WebSockets included (not a Set: see slot-list.ts). */
  private readonly open = new SlotList<'openSlot', Tracked>('openSlot');
  private refusedSinceWarning = 0;
  private lastWarning = 0;
  /** Head deadlines, swept by one timer rather than a timer per request. */
  private readonly deadlines: Deadlines;

  constructor(private readonly limits: ConnectionLimits) {
    this.deadlines = new Deadlines(tickFor(limits.headerTimeoutMs));
  }

  /** A connection was accepted: closes it at once when its client is over the cap, else starts its deadline. */
  admit(socket: Socket): void {
    const ip = plainIp(socket.remoteAddress);
    const client = this.limits.uncapped(ip) ? null : clientKey(ip);
    const open = client === null ? 0 : (this.perClient.get(client) ?? 0);
    if (client !== null && open >= this.limits.maxPerClient) {
      socket.destroy();
      this.refused(client);
      return;
    }
    if (client !== null) this.perClient.set(client, open + 1);
    const tracked = new Tracked(socket, client);
    this.tracked.set(socket, tracked);
    this.open.add(tracked);
    this.deadlines.add(tracked, this.limits.headerTimeoutMs);
    socket.once('close', () => {
      this.open.remove(tracked);
      this.deadlines.remove(tracked);
      if (client === null) return;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left > 0) this.perClient.set(client, left);
      else this.perClient.delete(client);
    });
  }

  /** A request head arrived on `socket`: no deadline while it is answered. */
  requestStarted(socket: Socket): void {
    const tracked = this.tracked.get(socket);
    if (!tracked) return;
    tracked.busy += 1;
    this.deadlines.remove(tracked);
  }

  /** A request on `socket` was answered (or abandoned): once none is left, the next head is due. */
  requestEnded(socket: Socket): void {
    const tracked = this.tracked.get(socket);
    if (!tracked || --tracked.busy > 0 || socket.destroyed) return;
    this.deadlines.add(tracked, this.limits.idleMs + this.limits.headerTimeoutMs);
  }

  /** The socket left HTTP (a WebSocket): it stays counted, but no head is due on it any more. */
  handedOver(socket: Socket): void {
    const tracked = this.tracked.get(socket);
    if (tracked) this.deadlines.remove(tracked);
    this.tracked.delete(socket);
  }

  /**
   * Ends every open connection after what was written to it has gone out, and destroys those
   * still open after `graceMs`. For a stopping edge whose exchanges are over: a response the edge
   * has just finished may still sit in a TLS socket's buffer, which destroying would lose.
   */
  async endAll(graceMs: number): Promise<void> {
    const closing = this.open.snapshot().map(
      ({ socket }) =>
        new Promise<void>((resolve) => {
          if (socket.destroyed) return resolve();
          socket.once('close', () => resolve());
          socket.end();
        }),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(closing), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const { socket } of this.open.snapshot()) socket.destroy();
  }

  /** Connections open per client right now, for tests and diagnostics. */
  openBy(ip: string): number {
    return this.perClient.get(clientKey(ip)) ?? 0;
  }

  private refused(client: string): void {
    this.refusedSinceWarning += 1;
    if (Date.now() - this.lastWarning < WARN_EVERY_MS) return;
    this.limits.warn('Refused connections over the per-client limit', {
      client,
      limit: this.limits.maxPerClient,
      refused: this.refusedSinceWarning,
    });
    this.lastWarning = Date.now();
    this.refusedSinceWarning = 0;
  }
}

/**
 * The unit a connection cap applies to: an IPv4 address, or the /64 an IPv6 address lies in,
 * since one subscriber usually holds a whole /64 and could otherwise use a new address per connection.
 */
export function clientKey(ip: string | null): string {
  if (!ip) return 'unknown';
  const bytes = ipBytes(ip);
  if (!bytes) return ip;
  const mapped = bytes.subarray(0, 12).every((b, i) => b === (i < 10 ? 0 : 0xff));
  if (mapped) return bytes.subarray(12).join('.');
  return `${Buffer.from(bytes.subarray(0, 8)).toString('hex')}::/64`;
}
