/**
 * The HTTPS listener's fair path: node:tls over a JavaScript Duplex fed by the plain socket. Its
 * handshakes run when their bytes arrive, first come, first served, outside the native TLS
 * sockets' handshake queue (README, "Why new-connection HTTPS has a long tail"), at some CPU cost
 * per request; it is taken by new connections while the native path's handshake budget is spent.
 * Bun calls no SNICallback on this path, so the certificate is the one the edge picked from the
 * ClientHello before the TLS socket was made.
 */
import type { Socket } from 'bun';
import type { Duplex } from 'node:stream';
import type { SecureContext, TLSSocket } from 'node:tls';
import { nodeTls } from '../../lazy-libraries.ts';
import { Outbound } from '../http1/outbound.ts';

/** node:stream, loaded by the first fair-path connection: an idle edge imports no node:stream. */
const nodeStream = (): typeof import('node:stream') => require('node:stream');

/** A plain socket with node:tls running over it; the owner forwards the socket's events here. */
export class FairTls {
  readonly socket: TLSSocket;
  private readonly stream: Duplex;
  private readonly out: Outbound;
  /** The write callback of the TLS engine's last write, held while the socket is full. */
  private waiting: ((err?: Error | null) => void) | null = null;
  /** Whether the TLS socket ended its side (close_notify sent, the plain socket ends after it). */
  private finished = false;

  constructor(
    private readonly raw: Socket<unknown>,
    context: SecureContext,
    hello: Buffer,
    alpn: string[],
  ) {
    this.out = new Outbound(raw);
    this.out.onDrained = () => {
      const done = this.waiting;
      this.waiting = null;
      done?.();
    };
    this.stream = new (nodeStream().Duplex)({
      read: () => raw.resume(),
      write: (chunk: Buffer, _encoding, done) => {
        if (this.out.write(chunk)) done();
        else this.waiting = done;
      },
      final: (done) => {
        this.finished = true;
        this.out.end();
        done();
      },
    });
    this.socket = new (nodeTls().TLSSocket)(this.stream, {
      isServer: true,
      secureContext: context,
      ALPNProtocols: alpn,
    });
    this.socket.on('error', () => {});
    // A TLS socket closed without ending its side (an error, a destroy) cuts the plain socket.
    this.socket.once('close', () => (this.finished ? undefined : raw.terminate()));
    this.stream.push(hello);
  }

  /** Bytes from the plain socket; it pauses while the TLS engine has not taken what it has. */
  received(chunk: Buffer): void {
    if (!this.stream.push(chunk)) this.raw.pause();
  }

  /** The peer ended its side of the plain socket. */
  ended(): void {
    this.stream.push(null);
  }

  /** The plain socket took what waited. */
  drained(): void {
    this.out.drain();
  }

  /** The plain socket closed. */
  closed(): void {
    this.stream.destroy();
    this.socket.destroy();
  }
}
