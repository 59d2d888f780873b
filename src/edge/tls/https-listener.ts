/**
 * The HTTPS listener with handshake admission (SLIPWAY_EDGE_TLS_ADMISSION): a plain Bun.listen
 * socket whose connections first deliver their ClientHello, from which the edge reads the server
 * name and picks the certificate (exact name, then a wildcard one label up; none, or no SNI, and the
 * connection closes, as the SNICallback path refuses it). Then each connection takes one of two
 * paths to the native HTTP/1.1 engine:
 * - native: Bun's own TLS socket, entered with `upgradeTLS` on the accepted socket, the cheapest
 *   per request once the handshake is done; taken while fewer than K connections are in a native
 *   handshake (handshake-budget.ts), so Bun's last-in, first-out queue of sockets in a handshake
 *   never fills;
 * - fair: node:tls over a JavaScript Duplex (fair-tls.ts), first come, first served, for the rest.
 * A connection is admitted by the connection guard when it is accepted, so its head deadline
 * covers the ClientHello and the handshake.
 */
import type { Socket, SocketHandler, TCPSocketListener } from 'bun';
import type { SecureContext } from 'node:tls';
import type { CertificateStore } from '../certificates.ts';
import type { ConnectionGuard, GuardedSocket } from '../connection-guard.ts';
import { bindEdge, type NativeListener } from '../http1/listener.ts';
import type { Outbound } from '../http1/outbound.ts';
import type { VisitorConnection } from '../http1/visitor-connection.ts';
import { ClientHelloReader } from './client-hello.ts';
import { FairTls } from './fair-tls.ts';
import type { HandshakeBudget, HandshakeSlot, SlotWaiter } from './handshake-budget.ts';

/** The only application protocol the edge speaks over TLS. */
const ALPN = ['http/1.1'];
const ALPN_WIRE = Buffer.from('\x08http/1.1', 'latin1');

/** What an HttpsConnection needs from its listener. */
interface Paths {
  /** Connections that took each path so far. */
  taken: { native: number; fair: number };
  certificates: CertificateStore;
  native: NativeListener;
  budget: HandshakeBudget;
  tlsHandlers: SocketHandler<HttpsConnection>;
}

/** One accepted connection: reading its ClientHello, then on the native or the fair path. */
export class HttpsConnection implements GuardedSocket, SlotWaiter {
  destroyed = false;
  private hello: ClientHelloReader | null = new ClientHelloReader();
  private tls: Socket<HttpsConnection> | null = null;
  private fair: FairTls | null = null;
  private visitor: VisitorConnection | null = null;
  private slot: HandshakeSlot | null = null;
  /** The certificate and the bytes read while the connection waits for the budget's answer. */
  private chosen: { context: SecureContext; hello: Buffer } | null = null;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    private readonly raw: Socket<HttpsConnection>,
    private readonly paths: Paths,
  ) {}

  get remoteAddress(): string | undefined {
    return this.raw.remoteAddress;
  }

  /** Which path the connection took, once its ClientHello was read. */
  get path(): 'native' | 'fair' | null {
    return this.tls ? 'native' : this.fair ? 'fair' : null;
  }

  once(_event: 'close', listener: () => void): this {
    this.closeListeners.push(listener);
    return this;
  }

  destroy(): void {
    if (this.tls) this.tls.terminate();
    else if (this.fair) this.fair.socket.destroy();
    this.raw.terminate();
  }

  end(): void {
    if (this.visitor) this.visitor.end();
    else if (this.fair) this.fair.socket.end();
    else if (this.tls) this.tls.end();
    else this.raw.end();
  }

  /** Bytes on the plain socket: the ClientHello, or TLS records for the fair path. */
  rawData(chunk: Buffer): void {
    if (this.fair) {
      this.fair.received(chunk);
      return;
    }
    if (!this.hello) return;
    const read = this.hello.read(chunk);
    if ('more' in read) return;
    const bytes = this.hello.bytes;
    this.hello = null;
    const name = 'servername' in read ? read.servername : null;
    const context = name ? this.paths.certificates.contextFor(name) : undefined;
    if (!context) {
      this.raw.terminate();
      return;
    }
    this.chosen = { context, hello: bytes };
    this.paths.budget.request(this);
  }

  /** The budget's answer: a native handshake slot, or none (the fair path). */
  granted(slot: HandshakeSlot | null): void {
    const chosen = this.chosen;
    this.chosen = null;
    if (!chosen || this.destroyed) {
      slot?.release();
      return;
    }
    this.slot = slot;
    this.paths.taken[slot ? 'native' : 'fair'] += 1;
    if (slot) this.enterNative(chosen.context, chosen.hello);
    else this.enterFair(chosen.context, chosen.hello);
  }

  rawEnded(): void {
    if (this.fair) this.fair.ended();
    else if (this.hello) this.raw.terminate();
  }

  rawDrained(): void {
    this.fair?.drained();
  }

  /** The native TLS socket opened (inside upgradeTLS): the engine serves it. */
  tlsOpened(tls: Socket<HttpsConnection>): void {
    this.tls = tls;
    this.visitor = this.paths.native.serve(tls as Socket<unknown>, this);
  }

  /** The native handshake ended, done or failed: the slot is free again. */
  tlsHandshake(success: boolean): void {
    this.slot?.release();
    this.slot = null;
    if (!success) this.tls?.terminate();
  }

  tlsData(chunk: Buffer): void {
    this.visitor?.received(chunk);
  }

  tlsDrained(): void {
    (this.visitor?.out as Outbound | undefined)?.drain();
  }

  tlsEnded(): void {
    this.visitor?.ended();
  }

  /** The connection is gone (the native TLS socket or the plain one closed, whichever was first). */
  closed(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.slot?.release();
    this.slot = null;
    if (this.visitor && this.tls) this.paths.native.served(this.visitor);
    this.fair?.closed();
    this.raw.terminate();
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  private enterNative(context: SecureContext, hello: Buffer): void {
    const options = {
      data: this,
      tls: { secureContext: (context as unknown as { context: unknown }).context, ALPNProtocols: ALPN_WIRE },
      socket: this.paths.tlsHandlers,
      isServer: true,
      initialData: hello,
    };
    try {
      (this.raw as unknown as { upgradeTLS(o: typeof options): unknown }).upgradeTLS(options);
    } catch {
      this.raw.terminate();
    }
  }

  private enterFair(context: SecureContext, hello: Buffer): void {
    const fair = new FairTls(this.raw as Socket<unknown>, context, hello, ALPN);
    this.fair = fair;
    fair.socket.once('secure', () => {
      if (!this.destroyed) this.paths.native.adopt(fair.socket, this);
    });
  }
}

/** The HTTPS port's plain listener and the handlers of the native TLS sockets it makes. */
export class HttpsListener {
  private listener: TCPSocketListener<HttpsConnection> | undefined;
  private readonly paths: Paths;

  constructor(
    certificates: CertificateStore,
    native: NativeListener,
    private readonly guard: ConnectionGuard,
    budget: HandshakeBudget,
  ) {
    this.paths = { taken: { native: 0, fair: 0 }, certificates, native, budget, tlsHandlers: tlsHandlers() };
  }

  /** Connections that took the native and the fair path so far (for benchmarks and tests). */
  get taken(): { native: number; fair: number } {
    return { ...this.paths.taken };
  }

  /** Binds now (port 0 = random) and returns the port; throws when the address is taken. */
  listen(hostname: string, port: number): number {
    this.listener = bindEdge(hostname, port, this.rawHandlers());
    return this.listener.port;
  }

  /** Stops accepting; open connections are the native listener's and the guard's to end. */
  stopAccepting(): void {
    this.listener?.stop(false);
    this.listener = undefined;
  }

  private rawHandlers(): SocketHandler<HttpsConnection> {
    return {
      open: (raw) => {
        raw.data = new HttpsConnection(raw, this.paths);
        this.guard.admit(raw.data);
      },
      data: (raw, chunk) => raw.data.rawData(chunk),
      drain: (raw) => raw.data.rawDrained(),
      end: (raw) => raw.data.rawEnded(),
      close: (raw) => raw.data.closed(),
      error: () => {},
    };
  }
}

/** The handlers of the native TLS sockets; each socket's data is its HttpsConnection. */
function tlsHandlers(): SocketHandler<HttpsConnection> {
  return {
    open: (tls) => tls.data.tlsOpened(tls),
    handshake: (tls, success) => tls.data.tlsHandshake(success),
    data: (tls, chunk) => tls.data.tlsData(chunk),
    drain: (tls) => tls.data.tlsDrained(),
    end: (tls) => tls.data.tlsEnded(),
    close: (tls) => tls.data.closed(),
    error: () => {},
  };
}
