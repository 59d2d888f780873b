/**
 * Keep-alive connections to the edge's targets, on Bun.connect: one pool per target address,
 * sized by demand (a request takes an idle connection if there is one, else opens a new one, and
 * gives it back when its response ended cleanly), so at c concurrent requests a target sees at
 * most c connections however high c is. An idle connection is closed after IDLE_MS, below the
 * keep-alive timeouts of common servers (Node 5 s, Bun 10 s, nginx 75 s), so the edge is nearly
 * always the side that closes, and rarely writes into a connection the upstream is closing.
 */
import type { Socket, SocketHandler } from 'bun';
import { Outbound } from './outbound.ts';

/** Time an idle upstream connection is kept. */
export const IDLE_MS = 4000;

/**
 * Time a new upstream connection may take to open. A target on a host that vanished (a node
 * powered off) never answers the SYN; past this the request tries another target instead of
 * waiting for the upstream timeout. Generous for a loaded host on the same network.
 */
export const CONNECT_TIMEOUT_MS = 3000;

/** What uses a connection while it carries an exchange. */
export interface UpstreamUser {
  upstreamData(chunk: Buffer): void;
  /** The connection closed (by either side); it is gone from the pool. */
  upstreamClosed(): void;
  upstreamDrained(): void;
}

/** One TCP connection to a target. */
export class UpstreamConnection {
  user: UpstreamUser | undefined;
  socket: Socket<UpstreamConnection> | undefined;
  out: Outbound | undefined;
  /** Whether it carried an exchange before the current one. */
  reused = false;
  closed = false;
  idleSince = 0;

  constructor(readonly address: string) {}

  private paused = false;

  /** Stops reading from the upstream (the visitor cannot take more yet). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket?.pause();
  }

  /** Reads from the upstream again; nothing to do unless paused, as on nearly every response. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket?.resume();
  }

  /** Closes it at once; its user hears upstreamClosed. */
  destroy(): void {
    this.socket?.terminate();
  }
}

const HANDLERS: SocketHandler<UpstreamConnection> = {
  open(socket) {
    const conn = socket.data;
    conn.socket = socket;
    conn.out = new Outbound(socket);
    conn.out.onDrained = () => conn.user?.upstreamDrained();
  },
  data(socket, chunk) {
    const conn = socket.data;
    // Bytes on an idle connection belong to no request: the connection can no longer be trusted.
    if (conn.user) conn.user.upstreamData(chunk);
    else socket.terminate();
  },
  drain(socket) {
    socket.data.out?.drain();
  },
  close(socket) {
    const conn = socket.data;
    if (conn.closed) return;
    conn.closed = true;
    const user = conn.user;
    conn.user = undefined;
    user?.upstreamClosed();
  },
  error() {},
  connectError() {},
};

/** Upstream connections of one edge, by target address. */
export class UpstreamPool {
  private readonly idle = new Map<string, UpstreamConnection[]>();
  private sweeper: ReturnType<typeof setInterval> | undefined;
  /** Connections opened so far, for benchmarks and tests. */
  opened = 0;

  /** An idle connection to `address`, or undefined when there is none. */
  take(address: string): UpstreamConnection | undefined {
    const stack = this.idle.get(address);
    while (stack && stack.length > 0) {
      const conn = stack.pop()!;
      if (!conn.closed) return conn;
    }
    return undefined;
  }

  /**
   * Opens a new connection to `address`; `ready` gets it once connected, or the error, or a timeout
   * error after `timeoutMs` (a connection that opens later is closed at once).
   */
  connect(address: string, ready: (conn: UpstreamConnection | Error) => void, timeoutMs = CONNECT_TIMEOUT_MS): void {
    const colon = address.lastIndexOf(':');
    const conn = new UpstreamConnection(address);
    this.opened += 1;
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      ready(new Error(`Connecting to ${address} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    Bun.connect<UpstreamConnection>({
      hostname: address.slice(0, colon).replace(/^\[|\]$/g, ''),
      port: Number(address.slice(colon + 1)),
      data: conn,
      socket: HANDLERS,
    }).then(
      (socket) => {
        clearTimeout(timer);
        if (settled) socket.terminate();
        else ready(conn);
      },
      (err: Error) => {
        clearTimeout(timer);
        if (!settled) ready(err);
      },
    );
  }

  /** Takes back a connection whose exchange ended cleanly, for the next request to its target. */
  release(conn: UpstreamConnection): void {
    conn.user = undefined;
    if (conn.closed) return;
    conn.reused = true;
    conn.idleSince = performance.now();
    let stack = this.idle.get(conn.address);
    if (!stack) this.idle.set(conn.address, (stack = []));
    stack.push(conn);
    this.sweeper ??= setInterval(() => this.sweep(), IDLE_MS / 4);
  }

  /** Closes every idle connection. */
  close(): void {
    for (const stack of this.idle.values()) for (const conn of stack) conn.destroy();
    this.idle.clear();
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Closes connections idle for IDLE_MS; the oldest sit at the bottom of each stack. */
  private sweep(): void {
    const limit = performance.now() - IDLE_MS;
    for (const [address, stack] of this.idle) {
      let keep = 0;
      while (keep < stack.length && (stack[keep]!.closed || stack[keep]!.idleSince < limit)) {
        stack[keep]!.destroy();
        keep++;
      }
      if (keep > 0) stack.splice(0, keep);
      if (stack.length === 0) this.idle.delete(address);
    }
    if (this.idle.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
