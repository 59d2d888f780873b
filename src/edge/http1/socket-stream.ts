/**
 * A visitor's Bun socket as a node:stream Duplex, for the one place the edge hands a connection
 * over whole: a WebSocket, which the existing bridge (websocket-bridge.ts) pipes with node's
 * streams. Reading pauses the socket when the stream's buffer is full and resumes it on _read;
 * a write the socket could not take completes only on `drain`, so pipe() sees the backpressure.
 * The class is defined by the first upgrade: node:stream costs an edge about 2 MiB when imported,
 * and an edge that proxies no WebSocket never needs it.
 */
import type { Duplex } from 'node:stream';
import { nodeStream } from '../../lazy-libraries.ts';
import type { Sink, Wire } from './outbound.ts';

/** The socket's events, forwarded by the connection that owned it. */
export interface Tunnel {
  data(chunk: Uint8Array): void;
  /** The peer sent FIN. */
  peerEnded(): void;
  socketClosed(): void;
  drained(): void;
}

/** A Duplex over a Bun socket. */
export interface SocketStream extends Duplex, Tunnel {
  readonly remoteAddress: string | undefined;
}

let SocketStreamClass: ReturnType<typeof defineSocketStream> | undefined;

/** A new Duplex over `socket`, writing through `out`. */
export function socketStream(socket: Wire, out: Sink): SocketStream {
  SocketStreamClass ??= defineSocketStream(nodeStream().Duplex);
  return new SocketStreamClass(socket, out);
}

function defineSocketStream(Base: typeof Duplex) {
  return class SocketStream extends Base implements Tunnel {
    private waiting: ((err?: Error | null) => void) | undefined;

    constructor(
      private readonly socket: Wire,
      private readonly out: Sink,
    ) {
      super({ allowHalfOpen: true });
    }

    get remoteAddress(): string | undefined {
      return this.socket.remoteAddress;
    }

    data(chunk: Uint8Array): void {
      if (!this.push(Buffer.from(chunk))) this.socket.pause();
    }

    peerEnded(): void {
      this.push(null);
    }

    socketClosed(): void {
      this.push(null);
      this.destroy();
    }

    drained(): void {
      const done = this.waiting;
      this.waiting = undefined;
      done?.();
    }

    override _read(): void {
      this.socket.resume();
    }

    override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
      if (this.out.write(chunk)) done();
      else this.waiting = done;
    }

    override _final(done: (err?: Error | null) => void): void {
      this.out.end();
      done();
    }

    override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
      this.socket.terminate();
      done(err);
    }
  };
}
