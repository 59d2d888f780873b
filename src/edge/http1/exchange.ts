/**
 * One request proxied by the native engine: the head rewritten once and sent on a pooled upstream
 * connection, the body piped in both directions with backpressure (a write the socket could not
 * take pauses the reading side until `drain`), the upstream's response framed for the visitor
 * (response-body.ts), and the connection given back to the pool when the exchange ended cleanly.
 * A small fixed-length body (up to WHOLE_BODY_LIMIT) is read whole before the visitor's head goes
 * out, so an upstream that dies in the middle of one is a clean 502, as on the node engine.
 * Nothing here makes a timer or a promise: the upstream timeout is a Deadline swept by the engine.
 */
import { WHOLE_BODY_LIMIT } from '../http-exchange.ts';
import { type EdgeStatus, pageAnswer } from '../pages.ts';
import { pickTarget } from '../dispatch.ts';
import type { Exchange as TargetExchange } from '../target.ts';
import type { EngineContext, Forwarding, UpstreamDeadline, VisitorSide } from './engine-context.ts';
import { RequestBody } from './request-body.ts';
import type { RequestHead } from './request-head.ts';
import { ResponseBody } from './response-body.ts';
import { MAX_RESPONSE_HEAD_BYTES, parseResponseHead, type ResponseHead } from './response-head.ts';
import type { UpstreamConnection, UpstreamUser } from './upstream-pool.ts';
import { answerBytes, CONTINUE } from './wire.ts';
import { UpstreamRequestHead, type VisitorHeadParts, visitorHeadBytes } from './head-bytes.ts';
import { HEAD_END } from './request-head.ts';
import { type HeadWriter, WholeBody } from './whole-body.ts';

/** Methods a request may be sent again for when a reused connection turned out closed (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Other targets a request tries when its target fails it (see failOver), before the visitor gets a 502. */
const MAX_FAILOVERS = 2;

/** Body bytes held for an upstream connection that is still opening, before the visitor is paused. */
const HOLD_BYTES = 64 * 1024;

/** The state of one proxied request. */
export class Exchange implements TargetExchange, UpstreamUser, HeadWriter {
  private readonly deadline: UpstreamDeadline;
  private conn: UpstreamConnection | undefined;
  private readonly body: RequestBody;
  /** Body bytes that came while the upstream connection was opening. */
  private held: Uint8Array[] | null = null;
  private heldBytes = 0;
  private headBuf: Buffer | null = null;
  private response: { head: ResponseHead; body: ResponseBody } | undefined;
  /** The body of a small response while it is read whole. */
  private whole: WholeBody | null = null;
  private answered = false;
  private finished = false;
  private closeVisitor = false;
  private retried = false;
  private failovers = 0;
  targetSlot = -1;
  private readonly requestHead: UpstreamRequestHead;
  private readonly started: number;

  constructor(
    private readonly visitor: VisitorSide,
    private readonly head: RequestHead,
    private readonly forward: Forwarding,
    private readonly ctx: EngineContext,
  ) {
    this.body = RequestBody.of(head);
    this.requestHead = new UpstreamRequestHead(head, visitor.identity, ctx.trusted);
    forward.target.enter(this);
    this.deadline = visitor.upstreamDeadline;
    this.deadline.holder = this;
    this.started = performance.now();
    ctx.deadlines.add(this.deadline, ctx.upstreamTimeoutMs, this.started);
  }

  /** Whether the visitor's bytes still belong to this request's body. */
  get wantsBody(): boolean {
    return !this.body.done && !this.finished;
  }

  /** Starts the exchange with `pending`, the bytes after the head; returns what follows the body. */
  start(pending: Uint8Array): Uint8Array {
    if (this.head.expectContinue && !this.body.done) this.visitor.out.write(CONTINUE);
    const rest = this.requestBody(pending);
    this.open();
    return rest;
  }

  /** Sends the request on an idle connection to the target, or on a new one once it is open. */
  private open(): void {
    const idle = this.ctx.pool.take(this.forward.target.address);
    if (idle) this.attach(idle);
    else this.ctx.pool.connect(this.forward.target.address, (conn) => this.connected(conn));
  }

  /** Body bytes from the visitor; returns what follows the body. */
  requestBody(bytes: Uint8Array): Uint8Array {
    if (bytes.length === 0 || this.finished) return bytes;
    const { body, rest } = this.body.take(bytes);
    if (this.body.broken) {
      this.fail(400, 'The request body has broken chunked framing');
      return rest;
    }
    if (body.length === 0) return rest;
    if (this.conn?.out) {
      // The visitor's reads are buffers of their own (test/edge/http1/chunks.test.ts): handed over.
      if (!this.conn.out.write(body, true)) this.visitor.pauseReading();
    } else {
      (this.held ??= []).push(Buffer.from(body));
      this.heldBytes += body.length;
      if (this.heldBytes > HOLD_BYTES) this.visitor.pauseReading();
    }
    return rest;
  }

  /** The target is draining and its time is up. */
  cut(): void {
    this.fail(502, 'Target is draining');
  }

  /** The upstream timeout ran out before the response head (or a small body) arrived. */
  expire(): void {
    this.fail(504, 'Upstream timed out');
  }

  /** The visitor's connection closed. */
  visitorClosed(): void {
    if (this.finished) return;
    this.dropUpstream();
    if (!this.answered) this.ctx.record(this.forward.project, 499, this.started);
    this.finish();
  }

  /** The visitor can take more of the response. */
  visitorDrained(): void {
    this.conn?.resume();
  }

  upstreamDrained(): void {
    this.visitor.resumeReading();
  }

  upstreamData(chunk: Buffer): void {
    if (this.finished) return;
    if (this.response) this.relay(chunk);
    else this.readHead(chunk);
  }

  upstreamClosed(): void {
    if (this.finished) return;
    const conn = this.conn;
    this.conn = undefined;
    if (!this.response) {
      this.closedBeforeAnswer(conn);
      return;
    }
    if (this.whole) {
      this.fail(502, 'Upstream body cut short');
      return;
    }
    const tail = this.response.body.upstreamClosed();
    if (tail === null) {
      this.fail(502, 'Upstream body cut short');
      return;
    }
    for (const piece of tail) this.visitor.out.write(piece);
    this.finish();
  }

  private connected(conn: UpstreamConnection | Error): void {
    if (conn instanceof Error) {
      if (!this.failOver()) this.fail(502, conn.message);
      return;
    }
    if (this.finished) {
      this.ctx.pool.release(conn);
      return;
    }
    this.attach(conn);
  }

  private attach(conn: UpstreamConnection): void {
    this.conn = conn;
    conn.user = this;
    const sent = conn.out!.write(this.requestHead.bytes(this.held));
    this.held = null;
    this.heldBytes = 0;
    if (sent) this.visitor.resumeReading();
    else this.visitor.pauseReading();
  }

  /**
   * The target refused the connection (its task died, its node went down), or closed one without
   * answering a request that can be sent again: it is passed over for a while, and the request goes
   * to another target of the project. False when there is none to try.
   */
  private failOver(): boolean {
    const failed = this.forward.target;
    failed.markUnreachable();
    const route = this.forward.route;
    if (this.finished || route === null || this.failovers >= MAX_FAILOVERS) return false;
    const next = pickTarget(route, this.ctx.targets, failed);
    if (next === undefined || next.draining || !next.reachable) return false;
    this.failovers += 1;
    failed.leave(this);
    this.forward.target = next;
    next.enter(this);
    this.open();
    return true;
  }

  /**
   * The upstream closed the connection before any byte of an answer. A request that can be sent
   * again (idempotent, no body) is: first on a new connection to the same target when the closed
   * one was reused (the upstream closed it idle as the request went out), then, when a new
   * connection closes too (the instance is dying: its node went down), on another target, as
   * nginx's `proxy_next_upstream error` does. Anything else gets 502.
   */
  private closedBeforeAnswer(conn: UpstreamConnection | undefined): void {
    const replayable = IDEMPOTENT.has(this.head.method) && this.head.framing.kind === 'none';
    if (replayable && this.headBuf === null) {
      if (conn?.reused && !this.retried) {
        this.retried = true;
        this.ctx.pool.connect(this.forward.target.address, (fresh) => this.connected(fresh));
        return;
      }
      if (this.failOver()) return;
    }
    this.fail(502, 'Upstream closed the connection');
  }

  private readHead(chunk: Buffer): void {
    let buf = this.headBuf ? Buffer.concat([this.headBuf, chunk]) : chunk;
    for (;;) {
      const end = buf.indexOf(HEAD_END);
      if (end === -1) {
        if (buf.length > MAX_RESPONSE_HEAD_BYTES) {
          this.fail(502, 'Upstream response head too large');
          return;
        }
        this.headBuf = Buffer.from(buf);
        return;
      }
      const head = parseResponseHead(buf, end + 4);
      if (!head || head.status === 101) {
        this.fail(502, 'Upstream sent a malformed response');
        return;
      }
      if (head.status >= 200) {
        this.respond(head, buf, end + 4);
        return;
      }
      buf = buf.subarray(end + 4);
      // An interim response (100, 103): the visitor's own 100 Continue came from the edge.
      if (buf.length === 0) {
        this.headBuf = null;
        return;
      }
    }
  }

  /** The final response's head arrived in `buf`, its body (or part of it) from `start` on. */
  private respond(head: ResponseHead, buf: Buffer, start: number): void {
    this.headBuf = null;
    const body = new ResponseBody(head, this.head.method, this.head.minor);
    this.response = { head, body };
    this.closeVisitor = this.head.close || body.framing === 'decoded' || body.framing === 'close';
    const small = body.framing === 'length' && !body.done && body.left <= WHOLE_BODY_LIMIT;
    if (small && body.takeWhole(buf.length - start)) {
      // The whole body came with the head (the common case): head and body in one write.
      this.sendHead(buf, buf, start);
      this.complete();
      return;
    }
    if (small) this.whole = WholeBody.of(body.left, buf, this.body.done ? this.headParts() : null);
    else this.sendHead(buf);
    if (start < buf.length) this.relay(buf.subarray(start));
    else if (body.done) this.complete();
  }

  /** Upstream body bytes: collected while a small body is read whole, else passed on. */
  private relay(bytes: Buffer): void {
    const { body } = this.response!;
    const pieces = body.take(bytes);
    if (body.broken && !body.done) {
      this.fail(502, 'Upstream sent a malformed body');
      return;
    }
    if (this.whole) {
      for (const piece of pieces) this.whole.add(piece);
      if (!body.done) return;
      const whole = this.whole;
      this.whole = null;
      whole.send(this.visitor.out, this);
      this.complete();
      return;
    }
    // The upstream's reads are buffers of their own, and so is what the framing made: handed over.
    let flowing = true;
    for (const piece of pieces) flowing = this.visitor.out.write(piece, true) && flowing;
    if (!flowing) this.conn?.pause();
    if (body.done) this.complete();
  }

  /**
   * Writes the visitor's response head, with `body` from `from` on when it is at hand; `src` holds
   * the bytes the upstream's head was parsed from while they are at hand (its lines are copied
   * from them rather than made into strings). It runs for nearly every response, so it does what
   * headParts and headSent do itself rather than through them.
   */
  sendHead(src: Buffer | null, body?: Buffer, from = 0): void {
    const { head, body: framing } = this.response!;
    if (!this.body.done) this.closeVisitor = true;
    const parts = { head, own: this.forward.headers, framing: framing.framing, close: this.closeVisitor };
    this.visitor.out.write(visitorHeadBytes(this.visitor.out, parts, src, body, from));
    this.answered = true;
    this.stopDeadline();
    this.ctx.record(this.forward.project, head.status, this.started);
  }

  /** What the visitor's response head is made of; a request body not read to its end closes the connection. */
  private headParts(): VisitorHeadParts {
    const { head, body } = this.response!;
    if (!this.body.done) this.closeVisitor = true;
    return { head, own: this.forward.headers, framing: body.framing, close: this.closeVisitor };
  }

  /** A head went out: the visitor is answered, the upstream deadline stops, the status is counted. */
  headSent(): void {
    this.answered = true;
    this.stopDeadline();
    this.ctx.record(this.forward.project, this.response!.head.status, this.started);
  }

  /** The response is complete: the connection goes back to the pool if it is clean. */
  private complete(): void {
    const conn = this.conn;
    this.conn = undefined;
    if (conn) {
      conn.user = undefined;
      conn.resume();
      const { head, body } = this.response!;
      const clean = head.keepAlive && !body.broken && !body.closeDelimited && this.body.done && !conn.closed;
      if (clean) this.ctx.pool.release(conn);
      else conn.destroy();
    }
    if (!this.body.done) this.closeVisitor = true;
    this.finish();
  }

  private fail(status: EdgeStatus, message: string): void {
    if (this.finished) return;
    this.dropUpstream();
    if (this.answered) {
      // Mid-body: the visitor sees the connection end early, which is what the upstream did.
      this.visitor.abort();
      this.finish();
      return;
    }
    if (status !== 400) {
      const fields = { project: this.forward.project, target: this.forward.target.address, status, error: message };
      this.ctx.warn('Proxying a request failed', fields);
    }
    this.answered = true;
    this.closeVisitor ||= !this.body.done || this.head.close;
    const answer = pageAnswer(status, this.head.method);
    this.visitor.out.write(answerBytes(answer, this.forward.headers, this.closeVisitor));
    this.ctx.record(this.forward.project, status, this.started);
    this.finish();
  }

  private stopDeadline(): void {
    if (this.deadline.holder !== this) return;
    this.deadline.holder = null;
    this.ctx.deadlines.remove(this.deadline);
  }

  private dropUpstream(): void {
    const conn = this.conn;
    this.conn = undefined;
    if (!conn) return;
    conn.user = undefined;
    conn.destroy();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.stopDeadline();
    this.forward.target.leave(this);
    this.visitor.exchangeDone(this.closeVisitor);
  }
}
