/**
 * The edge: Slipway's HTTP(S) reverse proxy. It routes each visitor by Host to one of its project's
 * instances, proxies HTTP and WebSockets to it, and lets instances that leave the route table
 * drain before the deploy worker stops them (kamal-proxy's router.go and service.go, in one). Over
 * HTTPS it serves each name with its certificate, picked by SNI (listeners.ts); what it does with
 * a request before routing it (challenges, redirects, the API's host name) is in dispatch.ts.
 *
 * It listens with node:http's server rather than Bun.serve: Bun.serve hands its handler a URL
 * with dot segments already resolved ("/a/../b" arrives as "/b", "%2e%2e" and "\\" likewise),
 * so a proxy on it cannot pass the visitor's request target on as sent; and it has no hook for a
 * connection before its first request, which the per-IP and header-time limits need.
 */
import type { Agent, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Server as TlsServer } from 'node:tls';
import { CertificateStore } from './certificates.ts';
import { ChallengeBook } from './challenges.ts';
import { ConnectionGuard, HEADER_TIMEOUT_MS, MAX_CONNECTIONS_PER_CLIENT } from './connection-guard.ts';
import { type Answer, dispatch, type DispatchState, type RequestLine } from './dispatch.ts';
import type { Visitor } from './forwarded.ts';
import { plainIp } from './headers.ts';
import { forwardHttp } from './http-exchange.ts';
import { Deadlines, tickFor } from './http1/deadlines.ts';
import type { EngineContext } from './http1/engine-context.ts';
import { NativeListener } from './http1/listener.ts';
import { UpstreamPool } from './http1/upstream-pool.ts';
import { DEFAULT_ADMISSION, HandshakeBudget } from './tls/handshake-budget.ts';
import { HttpsListener } from './tls/https-listener.ts';
import { bind, httpServer, type ListenerHandlers, tlsServer } from './listeners.ts';
import { nodeHttp } from '../lazy-libraries.ts';
import { pageAnswer, rawAnswer, writeAnswer } from './pages.ts';
import type { Challenge, EdgeCertificate, HostEntry } from './route-store.ts';
import { RouteTable, type Route } from './route-table.ts';
import { EdgeStats, UNROUTED, type EdgeStatsSnapshot } from './stats.ts';
import { Target, TargetRegistry } from './target.ts';
import { type Cidr, TrustedProxies } from './trusted-proxies.ts';
import { WebSocketBridge } from './websocket-bridge.ts';
import { handshakeRequest, UpstreamConnectError } from './websocket-handshake.ts';

/** Default time an upstream gets to send its response headers. */
const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;

/**
 * Time a visitor's connection may sit idle between requests (nginx's keepalive_timeout). While a
 * request is being proxied there is no idle timer: the upstream timeout bounds the wait for
 * headers, and a quiet SSE stream must not be cut.
 */
const VISITOR_IDLE_MS = 75_000;

/** Time a stopping edge gives its last responses to leave their sockets before it destroys them. */
const CLOSE_GRACE_MS = 1000;

/** The HTTP/1.1 implementations the edge can run on. */
export type EdgeEngine = 'native' | 'node';

/** Settings of the edge. */
export interface EdgeOptions {
  baseDomain: string;
  /** How long a target removed by setRoutes may keep its open exchanges before they are cut. */
  drainTimeoutMs: number;
  upstreamTimeoutMs?: number;
  /** Peers whose X-Forwarded-For the edge appends to (SLIPWAY_TRUSTED_PROXIES); nobody by default. */
  trustedProxies?: readonly Cidr[];
  /** Most open connections per client, trusted proxies exempt; MAX_CONNECTIONS_PER_CLIENT by default. */
  maxConnectionsPerClient?: number;
  /** Time a connection has to deliver a complete request head; HEADER_TIMEOUT_MS by default. */
  headerTimeoutMs?: number;
  /** Idle time allowed between two requests on a connection; 75 s by default. */
  visitorIdleMs?: number;
  /** The API's host name (SLIPWAY_API_DOMAIN) and the "host:port" the API listens on, to serve it over HTTPS. */
  api?: { domain: string; address: string } | null;
  /**
   * How the edge speaks HTTP/1.1 (SLIPWAY_EDGE_ENGINE): `native`, its own engine on Bun.listen and
   * Bun.connect with pooled upstream connections (src/edge/http1), or `node`, node:http on both sides.
   */
  engine?: EdgeEngine;
  /**
   * Handshake admission on the native engine's HTTPS port (SLIPWAY_EDGE_TLS_ADMISSION): at most this
   * many connections in Bun's native TLS handshake at once, the rest over node:tls on a Duplex
   * (src/edge/tls); DEFAULT_ADMISSION when absent; null keeps node:tls's server for every connection.
   */
  tlsAdmission?: number | null;
  /** How long a connection waits for a native handshake slot before the fair path; WAIT_MS by default (for benchmarks and tests). */
  tlsAdmissionWaitMs?: number;
  log?: {
    info(m: string, f?: object): void;
    warn(m: string, f?: object): void;
    error(m: string, f?: object): void;
  };
}

/** Everything the edge serves, as the route store holds it; what is left out is empty. */
export interface EdgeContents {
  routes: Route[];
  hosts?: HostEntry[];
  certificates?: EdgeCertificate[];
  challenges?: Challenge[];
}

const SILENT = { info() {}, warn() {}, error() {} };

/** Slipway's reverse proxy; the deploy worker feeds it routes and drains replaced instances. */
export class EdgeProxy {
  private readonly state: DispatchState;
  private readonly targets = new TargetRegistry();
  private readonly counters = new EdgeStats();
  private readonly log: NonNullable<EdgeOptions['log']>;
  private readonly upstreamTimeoutMs: number;
  private readonly trusted: TrustedProxies;
  private readonly guard: ConnectionGuard;
  /** The node engine's upstream connections; made by its first request. */
  private agent: Agent | undefined;
  private server: Server | undefined;
  private native: NativeListener | undefined;
  private readonly pool = new UpstreamPool();
  private readonly deadlines: Deadlines;
  private tls: { outer?: TlsServer; inner?: Server; native?: NativeListener; admission?: HttpsListener } | undefined;

  constructor(private readonly opts: EdgeOptions) {
    this.log = opts.log ?? SILENT;
    this.upstreamTimeoutMs = opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
    this.trusted = new TrustedProxies(opts.trustedProxies);
    this.deadlines = new Deadlines(tickFor(this.upstreamTimeoutMs));
    this.guard = new ConnectionGuard({
      maxPerClient: opts.maxConnectionsPerClient ?? MAX_CONNECTIONS_PER_CLIENT,
      headerTimeoutMs: opts.headerTimeoutMs ?? HEADER_TIMEOUT_MS,
      idleMs: opts.visitorIdleMs ?? VISITOR_IDLE_MS,
      uncapped: (ip) => this.trusted.trusts(ip),
      warn: (msg, fields) => this.log.warn(msg, fields),
    });
    this.state = {
      table: new RouteTable([], opts.baseDomain),
      challenges: new ChallengeBook(),
      certificates: new CertificateStore(this.log.warn.bind(this.log)),
      targets: this.targets,
      api: opts.api ? { domain: opts.api.domain, target: new Target(opts.api.address) } : null,
      httpsPort: null,
    };
  }

  /**
   * Serves `contents` from now on: the route table and challenges are swapped whole, certificates
   * whose PEM changed are loaded (new handshakes get them; open connections keep theirs), and
   * removed targets drain: no new requests, open ones may finish.
   */
  apply(contents: EdgeContents): void {
    const warn = this.log.warn.bind(this.log);
    const table = new RouteTable(contents.routes, this.opts.baseDomain, warn, contents.hosts);
    this.state.certificates.update(contents.certificates ?? []);
    const draining = this.targets.sync(table.targets());
    this.state.table = table;
    this.state.challenges = new ChallengeBook(contents.challenges);
    for (const address of draining) this.cutAfterDrainTimeout(address);
  }

  /** Replaces the route table alone (no host entries, certificates or challenges); see apply. */
  setRoutes(routes: Route[]): void {
    this.apply({ routes });
  }

  /** Resolves once `targets` have nothing open, or after timeoutMs, cutting what is left (and counting it). */
  async waitDrained(targets: string[], timeoutMs: number): Promise<{ cut: number }> {
    const found = targets.map((a) => this.targets.find(a)).filter((t): t is Target => !!t);
    return this.waitIdle(found, timeoutMs);
  }

  /** In-flight requests + open WebSockets to a target. */
  inflight(target: string): number {
    return this.targets.find(target)?.inflight ?? 0;
  }

  /** Starts listening for HTTP (port 0 = random); returns the bound port. Throws when the address is taken. */
  listen(hostname: string, port: number): number {
    if (this.server || this.native) throw new Error('Cannot start the edge: it is already listening');
    if ((this.opts.engine ?? 'native') === 'native') {
      const native = new NativeListener(this.nativeHooks(false), this.guard);
      const bound = native.listen(hostname, port);
      this.native = native;
      this.log.info('Edge listening', { hostname, port: bound, engine: 'native' });
      return bound;
    }
    const server = httpServer(this.guard, this.idleMs(), this.handlers(false), true);
    const bound = bind(server, hostname, port);
    this.server = server;
    this.log.info('Edge listening', { hostname, port: bound });
    return bound;
  }

  /** Starts listening for HTTPS (port 0 = random); returns the bound port. Throws when the address is taken. */
  listenHttps(hostname: string, port: number): number {
    if (this.tls) throw new Error('Cannot start the edge: it is already listening for HTTPS');
    const headerTimeoutMs = this.opts.headerTimeoutMs ?? HEADER_TIMEOUT_MS;
    const certificates = this.state.certificates;
    const admission = this.opts.tlsAdmission === undefined ? DEFAULT_ADMISSION : this.opts.tlsAdmission;
    if ((this.opts.engine ?? 'native') === 'native' && admission !== null) {
      const native = new NativeListener(this.nativeHooks(true), this.guard);
      const https = new HttpsListener(
        certificates,
        native,
        this.guard,
        new HandshakeBudget(admission, this.opts.tlsAdmissionWaitMs),
      );
      this.tls = { native, admission: https };
    } else if ((this.opts.engine ?? 'native') === 'native') {
      // node:tls does the handshakes (SNI by callback, which Bun.listen lacks); the engine gets the plaintext.
      const native = new NativeListener(this.nativeHooks(true), this.guard);
      const onError = (err: Error) => this.log.error('The edge failed', { error: err.message });
      const outer = tlsServer(certificates, this.guard, (s) => native.adopt(s), onError, headerTimeoutMs);
      this.tls = { outer, native };
    } else {
      const inner = httpServer(this.guard, this.idleMs(), this.handlers(true), false);
      const outer = tlsServer(
        certificates,
        this.guard,
        (s) => inner.emit('connection', s),
        (err) => inner.emit('error', err),
        headerTimeoutMs,
      );
      this.tls = { outer, inner };
    }
    let bound: number;
    try {
      bound = this.tls.admission ? this.tls.admission.listen(hostname, port) : bind(this.tls.outer!, hostname, port);
    } catch (err) {
      this.tls = undefined;
      throw err;
    }
    this.state.httpsPort = bound;
    this.log.info('Edge listening for HTTPS', { hostname, port: bound });
    return bound;
  }

  /** Stops accepting, gives open exchanges up to drainTimeoutMs to finish, then closes everything. */
  async stop(): Promise<void> {
    const servers = [this.server, this.tls?.inner].filter((s): s is Server => !!s);
    const natives = [this.native, this.tls?.native].filter((n): n is NativeListener => !!n);
    if (servers.length === 0 && natives.length === 0) return;
    this.native = undefined;
    for (const native of natives) native.stopAccepting();
    this.server?.close();
    this.tls?.outer?.close();
    this.tls?.admission?.stopAccepting();
    this.server = undefined;
    this.tls = undefined;
    this.state.httpsPort = null;
    // Stop accepting now; idle keep-alive connections go at once, busy ones after their exchange.
    for (const server of servers) server.closeIdleConnections();
    const targets = this.targets.all();
    if (this.state.api) targets.push(this.state.api.target);
    await this.waitIdle(targets, this.opts.drainTimeoutMs);
    await this.guard.endAll(CLOSE_GRACE_MS);
    for (const server of servers) server.closeAllConnections();
    for (const native of natives) native.closeAll();
    this.agent?.destroy();
    this.pool.close();
    this.deadlines.clear();
  }

  /**
   * Counters for metrics: requests by project and status class, and a latency histogram per
   * project. The same object until a request is counted (see EdgeStats.snapshot).
   */
  stats(): EdgeStatsSnapshot {
    return this.counters.snapshot();
  }

  /** Calls `listener` at the first request counted after stats() was read. */
  onStatsChange(listener: () => void): void {
    this.counters.onChange(listener);
  }

  private idleMs(): number {
    return this.opts.visitorIdleMs ?? VISITOR_IDLE_MS;
  }

  private async waitIdle(targets: Target[], timeoutMs: number): Promise<{ cut: number }> {
    const busy = targets.filter((t) => t.inflight > 0);
    if (busy.length === 0) return { cut: 0 };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const idle = Promise.all(busy.map((t) => t.whenIdle())).then(() => false);
    const late = await Promise.race([idle, timedOut]);
    clearTimeout(timer);
    if (!late) return { cut: 0 };
    return { cut: busy.reduce((n, t) => n + t.cutAll(), 0) };
  }

  /** A safety net for a caller that never waits: a removed target drains for drainTimeoutMs at most. */
  private cutAfterDrainTimeout(address: string): void {
    const target = this.targets.find(address);
    if (!target || target.inflight === 0) return;
    const timer = setTimeout(() => {
      // apply may have brought the target back since; a live target is never cut.
      if (!target.draining) return;
      const cut = target.cutAll();
      if (cut > 0) this.log.warn('Cut exchanges still open on a drained target', { target: address, cut });
    }, this.opts.drainTimeoutMs);
    void target.whenIdle().then(() => clearTimeout(timer));
  }

  /** Upstream connections the native engine has opened so far (for benchmarks and tests). */
  upstreamConnectionsOpened(): number {
    return this.pool.opened;
  }

  /** HTTPS connections that took the native and the fair TLS path so far; null without handshake admission. */
  tlsPaths(): { native: number; fair: number } | null {
    return this.tls?.admission?.taken ?? null;
  }

  /** What the native engine's connections use; `secure` for the HTTPS listener. */
  private nativeHooks(secure: boolean) {
    const ctx: EngineContext = {
      pool: this.pool,
      targets: this.targets,
      deadlines: this.deadlines,
      trusted: this.trusted,
      upstreamTimeoutMs: this.upstreamTimeoutMs,
      record: (project, status, started) => this.record(project, status, started),
      warn: (msg, fields) => this.log.warn(msg, fields),
    };
    return {
      ctx,
      guard: this.guard,
      proto: secure ? ('https' as const) : ('http' as const),
      route: (head: RequestLine) => dispatch(head, secure, this.state),
      websocket: (head: RequestLine, stream: Duplex, early: Buffer, visitor: Visitor) =>
        this.websocket(head, stream, early, visitor, secure).catch((err: Error) => this.failed(err, stream)),
    };
  }

  /** The handlers of one listener; `secure` for the HTTPS one. */
  private handlers(secure: boolean): ListenerHandlers {
    return {
      request: (req, res) => this.handle(req, res, secure).catch((err: Error) => this.failed(err, req.socket)),
      upgrade: (req, socket, early) => {
        socket.on('error', () => {});
        this.websocket(req, socket, early, this.visitor(req, secure), secure).catch((err: Error) =>
          this.failed(err, socket),
        );
      },
      // A CONNECT: the edge is no forward proxy, so it gets the 400 page.
      connect: (req, socket) =>
        this.answerRaw(socket, { project: UNROUTED, answer: pageAnswer(400, req.method) }, performance.now()),
      error: (err) => this.log.error('The edge failed', { error: err.message }),
    };
  }

  /** A bug, not a visitor or upstream failure: logged, and the visitor's connection closed. */
  private failed(err: Error, socket: Duplex): void {
    this.log.error('The edge failed to answer a request', { error: err.message });
    socket.destroy();
  }

  private async handle(req: IncomingMessage, res: ServerResponse, secure: boolean): Promise<void> {
    const started = performance.now();
    const routed = dispatch(req, secure, this.state);
    if ('answer' in routed) {
      writeAnswer(res, routed.answer);
      return this.record(routed.project, routed.answer.status, started);
    }
    const { project, target, headers } = routed;
    const status = await forwardHttp(req, res, {
      target,
      visitor: this.visitor(req, secure),
      trusted: this.trusted,
      agent: (this.agent ??= new (nodeHttp().Agent)({ keepAlive: true })),
      timeoutMs: this.upstreamTimeoutMs,
      responseHeaders: headers,
      warn: (msg, fields) => this.log.warn(msg, { project, ...fields }),
    });
    this.record(project, status, started);
  }

  /** A WebSocket handshake: the socket has left HTTP, so the edge's answers go out as raw bytes. */
  private async websocket(
    req: RequestLine,
    socket: Duplex,
    early: Buffer,
    visitor: Visitor,
    secure: boolean,
  ): Promise<void> {
    const started = performance.now();
    const routed = dispatch(req, secure, this.state);
    if ('answer' in routed) return this.answerRaw(socket, routed, started);
    const { project, target } = routed;
    const request = handshakeRequest(req, visitor, this.trusted);
    try {
      await new WebSocketBridge(socket, target).open(target.address, request, early, this.upstreamTimeoutMs);
    } catch (err) {
      if (!(err instanceof UpstreamConnectError)) throw err;
      this.log.warn('Proxying a WebSocket failed', { project, target: target.address, error: err.message });
      return this.answerRaw(socket, { project, answer: pageAnswer(err.status, req.method) }, started);
    }
    this.record(project, 101, started);
  }

  /** Answers on a socket that left the HTTP server, and closes it. */
  private answerRaw(socket: Duplex, routed: Answer, started: number): void {
    socket.on('error', () => {});
    socket.end(rawAnswer(routed.answer));
    this.record(routed.project, routed.answer.status, started);
  }

  private visitor(req: IncomingMessage, secure: boolean): Visitor {
    return { ip: plainIp(req.socket.remoteAddress), proto: secure ? 'https' : 'http' };
  }

  private record(project: string, status: number, started: number): void {
    this.counters.record(project, status, performance.now() - started);
  }
}
