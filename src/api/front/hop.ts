/**
 * A visitor's connection handed over to the API's internal Bun.serve: one loopback connection per
 * visitor connection, bytes piped both ways as they come, with backpressure each way (a side that
 * cannot take more pauses the other's reading). From the first byte of the request the front did
 * not answer on, Bun.serve reads everything the visitor sends exactly as it was sent, so it frames
 * bodies, streams uploads and SSE, upgrades WebSockets and refuses malformed requests as it does
 * when it listens itself. The visitor's address is registered for the connection (hop-peers.ts).
 */
import type { Socket } from 'bun';
import { Outbound } from '../../edge/http1/outbound.ts';
import { registerHop } from '../hop-peers.ts';

/** The visitor's side, as the hop uses it. */
export interface HopVisitor {
  readonly out: Outbound;
  readonly remoteAddress: string | undefined;
  pause(): void;
  resume(): void;
  /** Ends the visitor's connection once what was written has gone out. */
  end(): void;
  terminate(): void;
}

/** Where the internal server listens, and the server itself (the key of its hop table). */
export interface Internal {
  port: number;
  server: object;
}

/** The piping of one handed-over connection. */
export class Hop {
  private socket: Socket<Hop> | null = null;
  private out: Outbound | null = null;
  /** What the visitor sent before the connection to the internal server was open. */
  private early: Uint8Array[];
  private visitorEnded = false;
  private closed = false;
  private unregister: (() => void) | null = null;

  constructor(
    private readonly visitor: HopVisitor,
    internal: Internal,
    first: Uint8Array,
  ) {
    this.early = [first];
    visitor.pause();
    visitor.out.onDrained = () => this.socket?.resume();
    Bun.connect<Hop>({
      hostname: '127.0.0.1',
      port: internal.port,
      allowHalfOpen: true,
      data: this,
      socket: {
        open: (socket) => this.opened(socket, internal),
        data: (_socket, chunk) => this.fromInternal(chunk),
        drain: () => this.out?.drain(),
        end: () => this.visitor.end(),
        close: () => this.internalClosed(),
        error: () => {},
        connectError: () => this.internalClosed(),
      },
    } as Bun.TCPSocketConnectOptions<Hop>).catch(() => this.internalClosed());
  }

  /** Bytes from the visitor. */
  fromVisitor(chunk: Uint8Array): void {
    if (this.out === null) {
      this.early.push(Buffer.from(chunk));
      return;
    }
    if (!this.out.write(chunk)) this.visitor.pause();
  }

  /** The visitor sent FIN: so does the hop, once what it has is out. */
  visitorEnd(): void {
    this.visitorEnded = true;
    this.out?.end();
  }

  /**
   * The visitor's connection closed: the internal one closes at once. Its registration goes with
   * it (internalClosed), not before: a request Bun.serve is still answering keeps its client.
   */
  visitorClosed(): void {
    this.closed = true;
    this.socket?.terminate();
  }

  private opened(socket: Socket<Hop>, internal: Internal): void {
    if (this.closed) {
      socket.terminate();
      return;
    }
    this.socket = socket;
    this.unregister = registerHop(
      internal.server,
      `${socket.localAddress}:${socket.localPort}`,
      this.visitor.remoteAddress,
    );
    const out = new Outbound(socket as Socket<unknown>);
    out.onDrained = () => this.visitor.resume();
    this.out = out;
    const early = this.early;
    this.early = [];
    let flowing = true;
    for (const chunk of early) flowing = out.write(chunk);
    if (flowing) this.visitor.resume();
    if (this.visitorEnded) out.end();
  }

  private fromInternal(chunk: Uint8Array): void {
    if (!this.visitor.out.write(chunk)) this.socket?.pause();
  }

  private internalClosed(): void {
    this.unregister?.();
    this.unregister = null;
    if (this.closed) return;
    this.closed = true;
    this.visitor.end();
  }
}
