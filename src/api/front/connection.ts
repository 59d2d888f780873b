/**
 * One client connection to the API's front. Request heads are read with the edge's strict reader
 * (src/edge/http1/request-head.ts), one at a time, and each one the fast lane can answer from the
 * head alone (a GET of HTTP/1.1 without a body, for one of its routes) is answered here, in order,
 * as bytes. At the first head it cannot answer, or bytes that are no head it accepts, the
 * connection is handed over whole, from that head on, to the internal Bun.serve (hop.ts), which
 * then answers everything on it. The front thus never decides where a body or a malformed request
 * ends: only heads it reads as strictly as llhttp's strict mode, and that announce no body, are its.
 */
import type { Socket } from 'bun';
import { Outbound } from '../../edge/http1/outbound.ts';
import { headEnd, MAX_HEAD_BYTES, parseRequestHead, type RequestHead } from '../../edge/http1/request-head.ts';
import type { LaneAnswer } from '../fast-lane/lane.ts';
import { jsonBytes, partsBytes } from './answer-bytes.ts';
import { Hop, type HopVisitor, type Internal } from './hop.ts';

/** What a connection asks its front. */
export interface FrontLane {
  /** The lane's answer to `head`, or undefined when the lane does not take it. */
  answer(head: RequestHead, peer: () => string | undefined): LaneAnswer | Promise<LaneAnswer> | undefined;
  readonly internal: Internal;
}

/** Seconds a connection may stay silent before it is closed, as Bun.serve's idleTimeout. */
export const IDLE_SECONDS = 30;

const EMPTY = Buffer.alloc(0);

/** The state of one client connection. */
export class FrontConnection implements HopVisitor {
  readonly out: Outbound;
  /** Its index among its front's open connections (slot-list.ts), -1 while in none. */
  frontSlot = -1;
  private pending: Buffer | null = null;
  /** The Host of the last request, whose string the parser uses again when it is the same. */
  private lastHost: string | null = null;
  /** An answer that is not ready yet (the health check waits for the engine's status). */
  private waiting = false;
  private hop: Hop | null = null;
  private ended = false;
  private destroyed = false;

  constructor(
    private readonly socket: Socket<FrontConnection>,
    private readonly lane: FrontLane,
  ) {
    this.out = new Outbound(socket as Socket<unknown>);
    this.out.onDrained = () => this.carryOn();
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  /** The client's address, asked of the socket only when a read needs it. */
  private readonly peer = () => this.socket.remoteAddress;

  /** Whether the connection waits for a request: nothing held, nothing being answered, not handed over. */
  get idle(): boolean {
    return this.hop === null && !this.waiting && this.pending === null;
  }

  received(chunk: Buffer): void {
    if (this.hop) {
      this.hop.fromVisitor(chunk);
      return;
    }
    if (this.ended) return;
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    if (this.waiting || this.out.blocked) this.hold(buf);
    else this.read(buf);
  }

  /** The client sent FIN. */
  peerEnded(): void {
    if (this.hop) this.hop.visitorEnd();
    else if (!this.waiting && !this.out.blocked) this.end();
    else this.ended = true;
  }

  closed(): void {
    this.destroyed = true;
    this.hop?.visitorClosed();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    this.ended = true;
    this.out.end();
  }

  terminate(): void {
    this.socket.terminate();
  }

  /** Answers the heads in `buf` the lane takes, in order; hands the connection over at the first it does not. */
  private read(start: Buffer): void {
    let buf = start;
    while (buf.length > 0) {
      const end = headEnd(buf);
      if (end === -1) {
        this.pending = buf;
        return;
      }
      const head = typeof end === 'number' ? parseRequestHead(buf, end, this.lastHost) : end;
      if (!('refused' in head)) this.lastHost = head.host;
      const answer = 'refused' in head ? undefined : this.lane.answer(head, this.peer);
      if (answer === undefined) {
        this.handOver(buf);
        return;
      }
      const rest = end === buf.length ? EMPTY : buf.subarray(end as number);
      if (answer instanceof Promise) {
        this.waitFor(answer, rest);
        return;
      }
      this.out.write(bytesOf(answer));
      buf = rest;
      // A client that does not read its answers gets no more until it has: nothing piles up here.
      if (this.out.blocked && buf.length > 0) {
        this.hold(buf);
        return;
      }
    }
  }

  /**
   * Keeps `buf` for when the current answer is ready and sent; past a head's worth, stops reading
   * the socket until then, so a client cannot make the front hold more than that.
   */
  private hold(buf: Buffer): void {
    this.pending = buf;
    if (buf.length > MAX_HEAD_BYTES) this.socket.pause();
  }

  /** The answer is ready and sent: reads on, from what was held. */
  private carryOn(): void {
    if (this.hop || this.waiting || this.destroyed) return;
    this.socket.resume();
    const held = this.pending;
    this.pending = null;
    if (held) this.read(held);
    if (this.ended && this.idle) this.end();
  }

  private waitFor(answer: Promise<LaneAnswer>, rest: Buffer): void {
    this.waiting = true;
    this.pending = rest.length > 0 ? rest : null;
    void answer.then((settled) => {
      this.waiting = false;
      if (this.destroyed) return;
      // When the socket could not take it all, the Outbound's drain carries on.
      if (this.out.write(bytesOf(settled))) this.carryOn();
    });
  }

  private handOver(from: Buffer): void {
    // Bun.serve's own idle timeout applies from here on, to the internal connection.
    this.socket.timeout(0);
    this.hop = new Hop(this, this.lane.internal, from);
    if (this.ended) this.hop.visitorEnd();
  }
}

function bytesOf(answer: LaneAnswer): Uint8Array {
  return 'json' in answer ? jsonBytes(answer) : partsBytes(answer);
}
