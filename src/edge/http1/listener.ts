/**
 * The native engine's plain TCP listener, on Bun.listen: each accepted socket becomes a
 * VisitorConnection, admitted (or refused) by the edge's ConnectionGuard before it sends a byte.
 * Bun.listen keeps no per-connection JavaScript state of its own and gives the edge the bytes as
 * they arrive, so the request target stays exactly as sent (Bun.serve resolves dot segments).
 * Over HTTPS it serves the plaintext of connections another listener made secure: Bun TLS sockets
 * of the HTTPS listener's native path (serve), and node:tls sockets (adopt) of its fair path or of
 * node:tls's server when handshake admission is off (src/edge/tls).
 */
import type { Socket, SocketHandler, TCPSocketListener } from 'bun';
import type { TLSSocket } from 'node:tls';
import type { ConnectionGuard, GuardedSocket } from '../connection-guard.ts';
import { SlotList } from '../slot-list.ts';
import { Outbound, type Sink } from './outbound.ts';
import { type ConnectionHooks, VisitorConnection } from './visitor-connection.ts';

/** A listening socket of the native engine and its open connections. */
export class NativeListener {
  private listener: TCPSocketListener<VisitorConnection> | undefined;
  /** Open connections, in a SlotList: a Set would keep closed ones reachable (slot-list.ts). */
  private readonly connections = new SlotList<'listenerSlot', VisitorConnection>('listenerSlot');

  constructor(
    private readonly hooks: ConnectionHooks,
    private readonly guard: ConnectionGuard,
  ) {}

  /** Binds now (port 0 = random) and returns the port; throws when the address is taken. */
  listen(hostname: string, port: number): number {
    this.listener = bindEdge(hostname, port, this.handlers());
    return this.listener.port;
  }

  /** Stops accepting; idle keep-alive connections close now, busy ones after their exchange. */
  stopAccepting(): void {
    this.listener?.stop(false);
    this.listener = undefined;
    for (const conn of this.connections.snapshot()) if (conn.idle) conn.end();
  }

  /**
   * Serves a Bun socket another listener accepted (a native TLS socket of the HTTPS listener, which
   * forwards its events); `guardKey` is what the connection guard admitted for it.
   */
  serve(socket: Socket<unknown>, guardKey: GuardedSocket): VisitorConnection {
    const conn = new VisitorConnection(socket, new Outbound(socket), this.hooks, guardKey);
    this.connections.add(conn);
    return conn;
  }

  /** A connection given by serve() closed. */
  served(conn: VisitorConnection): void {
    this.connections.remove(conn);
    conn.closed();
  }

  /** Serves a node:tls connection whose handshake is done; `guardKey` is what the guard admitted (the socket by default). */
  adopt(socket: TLSSocket, guardKey: GuardedSocket = socket): void {
    const sink = new NodeSink(socket);
    const wire = {
      remoteAddress: guardKey.remoteAddress,
      pause: () => void socket.pause(),
      resume: () => void socket.resume(),
      terminate: () => void socket.destroy(),
    };
    const conn = new VisitorConnection(wire, sink, this.hooks, guardKey);
    this.connections.add(conn);
    socket.on('data', (chunk: Buffer) => conn.received(chunk));
    socket.on('end', () => conn.ended());
    socket.on('drain', () => sink.onDrained?.());
    socket.on('error', () => {});
    socket.once('close', () => {
      this.connections.remove(conn);
      conn.closed();
    });
  }

  /** Closes every connection at once. */
  closeAll(): void {
    for (const conn of this.connections.snapshot()) conn.destroy();
  }

  private handlers(): SocketHandler<VisitorConnection> {
    return {
      open: (socket: Socket<VisitorConnection>) => {
        const conn = new VisitorConnection(socket, new Outbound(socket), this.hooks);
        socket.data = conn;
        this.connections.add(conn);
        this.guard.admit(conn);
      },
      data: (socket, chunk) => socket.data.received(chunk),
      drain: (socket) => (socket.data.out as Outbound).drain(),
      end: (socket) => socket.data.ended(),
      close: (socket) => {
        this.connections.remove(socket.data);
        socket.data.closed();
      },
      error: () => {},
    };
  }
}

/** The write side of a node:tls socket: node buffers what the socket cannot take and says so. */
class NodeSink implements Sink {
  onDrained: (() => void) | undefined;
  /** node keeps a Buffer it could not send yet as it is. */
  readonly copies = false;

  constructor(private readonly socket: TLSSocket) {}

  write(data: string | Uint8Array): boolean {
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  end(): void {
    this.socket.end();
  }
}

/** Binds one of the edge's ports (half-open sockets allowed); throws a readable error when the address is taken. */
export function bindEdge<T>(hostname: string, port: number, socket: SocketHandler<T>): TCPSocketListener<T> {
  try {
    return Bun.listen<T>({ hostname, port, allowHalfOpen: true, socket } as Bun.TCPSocketListenOptions<T>);
  } catch {
    throw new Error(`Cannot start the edge on ${hostname}:${port}: the address is in use or unavailable`);
  }
}
