/**
 * One proxied WebSocket. The edge relays the handshake (websocket-handshake.ts) and, once the
 * upstream answered 101, the bytes of both directions as they are: messages, pings and close
 * frames, with their codes, cross untouched. Each direction is a pipe, so a side that stops
 * reading stops the other from being read (TCP backpressure reaches the sender) and the edge
 * holds at most a socket buffer per direction, however much the other side sends.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Exchange, Target } from './target.ts';
import { closeFrame, FrameBoundary } from './websocket-frames.ts';
import { upstreamHandshake } from './websocket-handshake.ts';

/** How long a socket the edge has ended may take to flush and close before it is destroyed. */
const LINGER_MS = 5000;

/** The visitor and upstream sockets of one proxied WebSocket, counted as an exchange on its target. */
export class WebSocketBridge implements Exchange {
  private upstream: Socket | undefined;
  /** Where the bytes sent to each side stand, so that the edge can add a close frame of its own. */
  private readonly toVisitor = new FrameBoundary();
  private readonly toUpstream = new FrameBoundary();
  private readonly handshake = new AbortController();
  private readonly end: () => void;
  private over = false;
  private lingering: ReturnType<typeof setTimeout> | undefined;

  /** Counts the bridge on `target` from now on, the handshake included, so a drain can fail it. */
  constructor(
    private readonly visitor: Duplex,
    target: Target,
  ) {
    this.end = target.begin(this);
    visitor.on('error', () => {});
    visitor.once('close', () => this.closed(this.upstream));
    // A peer that half-closes and then keeps its socket open must not hold both ends forever.
    visitor.once('end', () => this.linger());
  }

  /**
   * Sends `request` (and `early`, frames the visitor sent along) to `address` and, on a 101, joins
   * the sockets. Rejects with UpstreamConnectError, leaving the visitor's socket to the caller.
   */
  async open(address: string, request: string, early: Buffer, timeoutMs: number): Promise<void> {
    const accepted = await upstreamHandshake(address, request, early, timeoutMs, this.handshake.signal).catch(
      (err: unknown) => {
        this.finish();
        throw err;
      },
    );
    const upstream = (this.upstream = accepted.socket);
    upstream.once('close', () => this.closed(this.visitor));
    upstream.once('end', () => this.linger());
    if (this.over) {
      upstream.destroy();
      return;
    }
    this.toUpstream.feed(early);
    this.visitor.write(accepted.head);
    this.relay(upstream, this.visitor, this.toVisitor);
    this.toVisitor.feed(accepted.rest);
    this.visitor.write(accepted.rest);
    this.relay(this.visitor, upstream, this.toUpstream);
  }

  /** Ends both sides with 1001 "going away", as a server that shuts down does (a handshake just fails). */
  cut(): void {
    if (this.over) return;
    this.finish();
    this.handshake.abort(new Error('Target is draining'));
    const upstream = this.upstream;
    if (!upstream) return;
    upstream.unpipe(this.visitor).pause();
    this.visitor.unpipe(upstream).pause();
    endWith(this.visitor, this.toVisitor, closeFrame(1001, 'Server is draining', false));
    endWith(upstream, this.toUpstream, closeFrame(1001, 'Proxy is draining', true));
  }

  /** Pipes `from` into `to`, watching frame boundaries on the way. */
  private relay(from: Duplex, to: Duplex, frames: FrameBoundary): void {
    from.on('data', (chunk: Buffer) => frames.feed(chunk));
    from.pipe(to);
  }

  /** One socket closed: the WebSocket is over; the other gets what is still on its way, then closes. */
  private closed(other: Duplex | undefined): void {
    if (!this.over) this.handshake.abort(new Error('Visitor went away during the handshake'));
    this.finish();
    other?.end();
    this.linger();
  }

  /** Destroys both sockets after LINGER_MS unless they closed by then. */
  private linger(): void {
    this.lingering ??= setTimeout(() => {
      this.visitor.destroy();
      this.upstream?.destroy();
    }, LINGER_MS).unref();
  }

  private finish(): void {
    if (this.over) return;
    this.over = true;
    this.end();
  }
}

/** Ends `socket` with `frame` if it stands between two frames, else abruptly; destroys it if it lingers. */
function endWith(socket: Duplex, frames: FrameBoundary, frame: Buffer): void {
  if (frames.atBoundary) socket.end(frame);
  else socket.destroy();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
