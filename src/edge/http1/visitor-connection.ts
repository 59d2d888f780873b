/**
 * One visitor's connection to the native engine: it reads request heads (request-head.ts), hands
 * each request to the edge's dispatch, answers the edge's own answers itself and runs one
 * exchange at a time for the rest; bytes of a pipelined next request wait until the current
 * response is complete. A WebSocket handshake leaves HTTP: the socket becomes a stream for the
 * bridge. A head the parser refuses gets its 400 (or 431) and the connection closes.
 */
import type { GuardedSocket } from '../connection-guard.ts';
import type { Answer, Forward } from '../dispatch.ts';
import type { Visitor } from '../forwarded.ts';
import { plainIp } from '../headers.ts';
import { pageAnswer } from '../pages.ts';
import { UNROUTED } from '../stats.ts';
import { type EngineContext, UpstreamDeadline, type VisitorSide } from './engine-context.ts';
import { Exchange } from './exchange.ts';
import type { Sink, Wire } from './outbound.ts';
import { headEnd, MAX_HEAD_BYTES, parseRequestHead, type RequestHead } from './request-head.ts';
import { type SocketStream, socketStream, type Tunnel } from './socket-stream.ts';
import { answerBytes } from './wire.ts';

/** What a listener gives its connections. */
export interface ConnectionHooks {
  ctx: EngineContext;
  guard: {
    requestStarted(socket: GuardedSocket): void;
    requestEnded(socket: GuardedSocket): void;
    handedOver(socket: GuardedSocket): void;
  };
  proto: 'http' | 'https';
  route(head: RequestHead): Forward | Answer;
  /** A WebSocket handshake; `stream` is the connection, now out of HTTP. */
  websocket(head: RequestHead, stream: SocketStream, early: Buffer, visitor: Visitor): unknown;
}

const TOO_LARGE = 'HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n';
const EMPTY = Buffer.alloc(0);

/** The HTTP/1.1 state of one visitor connection. */
export class VisitorConnection implements VisitorSide {
  readonly identity: Visitor;
  readonly upstreamDeadline = new UpstreamDeadline();
  destroyed = false;
  /** Its index among its listener's open connections (listener.ts), -1 while in none. */
  listenerSlot = -1;
  private pending: Buffer | null = null;
  /** The Host of the last request, for the parser to use again (parseRequestHead). */
  private lastHost: string | null = null;
  private exchange: Exchange | null = null;
  private tunnel: Tunnel | null = null;
  private ending = false;
  private parsing = false;
  private paused = false;
  private peerEnded = false;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    readonly socket: Wire,
    readonly out: Sink,
    private readonly hooks: ConnectionHooks,
    /** What the connection guard tracks this connection as: itself, or the TLS socket under it. */
    private readonly guardKey: GuardedSocket = this,
  ) {
    this.out.onDrained = () => (this.tunnel ? this.tunnel.drained() : this.exchange?.visitorDrained());
    this.identity = { ip: plainIp(socket.remoteAddress), proto: hooks.proto };
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  /** Whether the connection waits for a request (no exchange, nothing buffered). */
  get idle(): boolean {
    return !this.exchange && !this.tunnel && this.pending === null;
  }

  once(_event: 'close', listener: () => void): this {
    this.closeListeners.push(listener);
    return this;
  }

  destroy(): void {
    this.socket.terminate();
  }

  end(): void {
    this.ending = true;
    this.out.end();
  }

  received(chunk: Buffer): void {
    if (this.tunnel) {
      this.tunnel.data(chunk);
      return;
    }
    if (this.ending) return;
    let bytes: Uint8Array = chunk;
    if (this.exchange?.wantsBody) {
      bytes = this.exchange.requestBody(bytes);
      if (bytes.length === 0) return;
    }
    const buf = this.pending ? Buffer.concat([this.pending, bytes]) : (bytes as Buffer);
    this.pending = null;
    if (!this.exchange) {
      this.readRequests(buf);
      return;
    }
    this.pending = Buffer.from(buf);
    if (this.pending.length > MAX_HEAD_BYTES) this.pauseReading();
  }

  /** The peer sent FIN: nothing more will come; the connection ends after the current response. */
  ended(): void {
    if (this.tunnel) {
      this.tunnel.peerEnded();
      return;
    }
    this.peerEnded = true;
    if (!this.exchange) this.end();
  }

  closed(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.tunnel?.socketClosed();
    this.exchange?.visitorClosed();
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  pauseReading(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  exchangeDone(close: boolean): void {
    this.exchange = null;
    if (this.destroyed) return;
    if (close || this.peerEnded) {
      this.end();
      return;
    }
    this.hooks.guard.requestEnded(this.guardKey);
    this.resumeReading();
    if (this.parsing || this.pending === null) return;
    const buf = this.pending;
    this.pending = null;
    this.readRequests(buf);
  }

  abort(): void {
    this.socket.terminate();
  }

  /** Reads and handles the requests in `buf`, one at a time; keeps what is left for later. */
  private readRequests(start: Buffer): void {
    let buf: Uint8Array = start;
    this.parsing = true;
    while (!this.exchange && !this.ending && !this.tunnel && buf.length > 0) {
      const end = headEnd(buf as Buffer);
      if (end === -1) break;
      const head = typeof end === 'number' ? parseRequestHead(buf as Buffer, end, this.lastHost) : end;
      if ('refused' in head) {
        this.refuse(head.refused);
        break;
      }
      this.lastHost = head.host;
      this.hooks.guard.requestStarted(this.guardKey);
      buf = this.handle(head, end === buf.length ? EMPTY : buf.subarray(end as number));
    }
    this.parsing = false;
    if (buf.length > 0 && !this.ending && !this.tunnel) this.pending = Buffer.from(buf);
    if (!this.exchange && this.peerEnded && !this.ending) this.end();
  }

  /** Handles one request; returns the bytes after what it consumed. */
  private handle(head: RequestHead, rest: Uint8Array): Uint8Array {
    if (head.websocket) return this.handOver(head, rest);
    const routed = this.hooks.route(head);
    if ('answer' in routed) {
      // A body the edge does not read leaves no way to find the next request: the connection ends.
      const close = head.close || head.framing.kind !== 'none';
      this.out.write(answerBytes(routed.answer, [], close));
      this.hooks.ctx.record(routed.project, routed.answer.status, performance.now());
      if (close) {
        this.end();
        return EMPTY;
      }
      this.hooks.guard.requestEnded(this.guardKey);
      return rest;
    }
    const exchange = new Exchange(this, head, routed, this.hooks.ctx);
    this.exchange = exchange;
    return exchange.start(rest);
  }

  private handOver(head: RequestHead, early: Uint8Array): Uint8Array {
    this.hooks.guard.handedOver(this.guardKey);
    const stream = socketStream(this.socket, this.out);
    this.tunnel = stream;
    this.hooks.websocket(head, stream, Buffer.from(early), this.identity);
    return EMPTY;
  }

  private refuse(status: 400 | 431): void {
    this.out.write(status === 431 ? TOO_LARGE : answerBytes(pageAnswer(400), [], true));
    this.hooks.ctx.record(UNROUTED, status, performance.now());
    this.end();
  }
}
