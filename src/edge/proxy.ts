/**
 * The edge: Slipway's HTTP reverse proxy. It routes each visitor by Host to one of its project's
 * instances, proxies HTTP and WebSockets to it, and lets instances that leave the route table
 * drain before the deploy worker stops them (kamal-proxy's router.go and service.go, in one).
 *
 * It listens with node:http's server rather than Bun.serve: Bun.serve hands its handler a URL
 * with dot segments already resolved ("/a/../b" arrives as "/b", "%2e%2e" and "\\" likewise),
 * so a proxy on it cannot pass the visitor's request target on as sent; and it has no hook for a
 * connection before its first request, which the per-IP and header-time limits need.
 */
import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ConnectionGuard, HEADER_TIMEOUT_MS, MAX_CONNECTIONS_PER_CLIENT } from './connection-guard.ts';
import type { Visitor } from './forwarded.ts';
import { isWebSocketUpgrade, plainIp } from './headers.ts';
import { forwardHttp } from './http-exchange.ts';
import { type EdgeStatus, rawEdgePage, writeEdgePage } from './pages.ts';
import { RouteTable, type Route } from './route-table.ts';
import { EdgeStats, UNROUTED, type EdgeStatsSnapshot } from './stats.ts';
import { TargetRegistry, type Target } from './target.ts';
import { checkRequest } from './visitor-request.ts';
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
  log?: {
    info(m: string, f?: object): void;
    warn(m: string, f?: object): void;
    error(m: string, f?: object): void;
  };
}

const SILENT = { info() {}, warn() {}, error() {} };

/** Where a request goes: an instance of its project, or a status the edge answers with itself. */
type Routed = { project: string; target: Target } | { project: string; status: EdgeStatus };

/** Slipway's reverse proxy; the deploy worker feeds it routes and drains replaced instances. */
export class EdgeProxy {
  private table: RouteTable;
  private readonly targets = new TargetRegistry();
  private readonly counters = new EdgeStats();
  private readonly log: NonNullable<EdgeOptions['log']>;
  private readonly upstreamTimeoutMs: number;
  private readonly trusted: TrustedProxies;
  private readonly agent = new Agent({ keepAlive: true });
  private server: Server | undefined;

  constructor(private readonly opts: EdgeOptions) {
    this.log = opts.log ?? SILENT;
    this.upstreamTimeoutMs = opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
    this.table = new RouteTable([], opts.baseDomain);
    this.trusted = new TrustedProxies(opts.trustedProxies);
  }

  /** Replaces the route table atomically; removed targets drain: no new requests, open ones may finish. */
  setRoutes(routes: Route[]): void {
    const table = new RouteTable(routes, this.opts.baseDomain, this.log.warn.bind(this.log));
    const draining = this.targets.sync(table.targets());
    this.table = table;
    for (const address of draining) this.cutAfterDrainTimeout(address);
  }

  /** Resolves once `targets` have nothing open, or after timeoutMs, cutting what is left (and counting it). */
  async waitDrained(targets: string[], timeoutMs: number): Promise<{ cut: number }> {
    const busy = targets.map((a) => this.targets.find(a)).filter((t): t is Target => !!t && t.inflight > 0);
    if (busy.length === 0) return { cut: 0 };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const idle = Promise.all(busy.map((t) => t.whenIdle())).then(() => false);
    const late = await Promise.race([idle, timedOut]);
    clearTimeout(timer);
    if (!late) return { cut: 0 };
    return { cut: busy.reduce((n, t) => n + t.cutAll(), 0) };
  }

  /** In-flight requests + open WebSockets to a target. */
  inflight(target: string): number {
    return this.targets.find(target)?.inflight ?? 0;
  }

  /** Starts listening (port 0 = random); returns the bound port. Throws when the address is taken. */
  listen(hostname: string, port: number): number {
    if (this.server) throw new Error('Cannot start the edge: it is already listening');
    const server = this.createServer();
    server.listen(port, hostname);
    const address = server.address();
    if (!server.listening || !address || typeof address === 'string') {
      server.close();
      throw new Error(`Cannot start the edge on ${hostname}:${port}: the address is in use or unavailable`);
    }
    this.server = server;
    this.log.info('Edge listening', { hostname, port: address.port });
    return address.port;
  }

  /** Stops accepting, gives open exchanges up to drainTimeoutMs to finish, then closes everything. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // Stop accepting now; idle keep-alive connections go at once, busy ones after their exchange.
    server.close();
    server.closeIdleConnections();
    const addresses = this.targets.all().map((t) => t.address);
    await this.waitDrained(addresses, this.opts.drainTimeoutMs);
    server.closeAllConnections();
    this.agent.destroy();
  }

  /** Counters for metrics: requests by project and status class, and a latency histogram per project. */
  stats(): EdgeStatsSnapshot {
    return this.counters.snapshot();
  }

  /** A safety net for a caller that never waits: a removed target drains for drainTimeoutMs at most. */
  private cutAfterDrainTimeout(address: string): void {
    const target = this.targets.find(address);
    if (!target || target.inflight === 0) return;
    const timer = setTimeout(() => {
      // setRoutes may have brought the target back since; a live target is never cut.
      if (!target.draining) return;
      const cut = target.cutAll();
      if (cut > 0) this.log.warn('Cut exchanges still open on a drained target', { target: address, cut });
    }, this.opts.drainTimeoutMs);
    void target.whenIdle().then(() => clearTimeout(timer));
  }

  /** The node:http server with the edge's handlers, its connection limits and no request timeout of its own. */
  private createServer(): Server {
    // Only WebSocket upgrades leave the HTTP server; any other Upgrade (h2c) is plain HTTP to the edge.
    const server = createServer({ shouldUpgradeCallback: isWebSocketUpgrade });
    const idleMs = this.opts.visitorIdleMs ?? VISITOR_IDLE_MS;
    server.keepAliveTimeout = idleMs;
    // Node's own request timeout (5 minutes) would cut long uploads and SSE streams.
    server.requestTimeout = 0;
    const guard = new ConnectionGuard({
      maxPerClient: this.opts.maxConnectionsPerClient ?? MAX_CONNECTIONS_PER_CLIENT,
      headerTimeoutMs: this.opts.headerTimeoutMs ?? HEADER_TIMEOUT_MS,
      idleMs,
      uncapped: (ip) => this.trusted.trusts(ip),
      warn: (msg, fields) => this.log.warn(msg, fields),
    });
    server.on('connection', (socket: Socket) => guard.admit(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      guard.requestStarted(req.socket);
      res.once('close', () => guard.requestEnded(req.socket));
      this.handle(req, res).catch((err: Error) => this.failed(err, req.socket));
    });
    // A WebSocket, or a CONNECT (the edge is no forward proxy: it gets the 400 page), leaves HTTP.
    server.on('upgrade', (req: IncomingMessage, socket: Socket, early: Buffer) => {
      guard.handedOver(socket);
      this.upgrade(req, socket, early).catch((err: Error) => this.failed(err, socket));
    });
    server.on('connect', (req: IncomingMessage, socket: Socket) => {
      guard.handedOver(socket);
      this.answerRaw(socket, { project: UNROUTED, status: 400 }, req.method, performance.now());
    });
    server.on('error', (err: Error) => this.log.error('The edge failed', { error: err.message }));
    return server;
  }

  /** A bug, not a visitor or upstream failure: logged, and the visitor's connection closed. */
  private failed(err: Error, socket: Socket): void {
    this.log.error('The edge failed to answer a request', { error: err.message });
    socket.destroy();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const routed = this.route(req);
    if ('status' in routed) {
      writeEdgePage(res, routed.status, req.method);
      return this.record(routed.project, routed.status, started);
    }
    const { project, target } = routed;
    const status = await forwardHttp(req, res, {
      target,
      visitor: this.visitor(req),
      trusted: this.trusted,
      agent: this.agent,
      timeoutMs: this.upstreamTimeoutMs,
      warn: (msg, fields) => this.log.warn(msg, { project, ...fields }),
    });
    this.record(project, status, started);
  }

  /** A WebSocket handshake: the socket has left the HTTP server, so pages go out as raw bytes. */
  private async upgrade(req: IncomingMessage, socket: Socket, early: Buffer): Promise<void> {
    const started = performance.now();
    socket.on('error', () => {});
    const routed = this.route(req);
    if ('status' in routed) return this.answerRaw(socket, routed, req.method, started);
    const { project, target } = routed;
    const request = handshakeRequest(req, this.visitor(req), this.trusted);
    try {
      await new WebSocketBridge(socket, target).open(target.address, request, early, this.upstreamTimeoutMs);
    } catch (err) {
      if (!(err instanceof UpstreamConnectError)) throw err;
      this.log.warn('Proxying a WebSocket failed', { project, target: target.address, error: err.message });
      return this.answerRaw(socket, { project, status: err.status }, req.method, started);
    }
    this.record(project, 101, started);
  }

  /** Answers on a socket that left the HTTP server with the edge's page, and closes it. */
  private answerRaw(
    socket: Socket,
    answer: { project: string; status: EdgeStatus },
    method: string | undefined,
    started: number,
  ): void {
    socket.on('error', () => {});
    socket.end(rawEdgePage(answer.status, method));
    this.record(answer.project, answer.status, started);
  }

  /** The project and instance for a request, or the status the edge answers itself. */
  private route(req: IncomingMessage): Routed {
    const checked = checkRequest(req.rawHeaders, req.url ?? '');
    if (!checked.ok) return { project: UNROUTED, status: 400 };
    const route = this.table.lookup(checked.host);
    if (!route) return { project: UNROUTED, status: 404 };
    const address = route.pick();
    const target = address === undefined ? undefined : this.targets.find(address);
    return target ? { project: route.project, target } : { project: route.project, status: 503 };
  }

  private visitor(req: IncomingMessage): Visitor {
    return { ip: plainIp(req.socket.remoteAddress), proto: 'http' };
  }

  private record(project: string, status: number, started: number): void {
    this.counters.record(project, status, performance.now() - started);
  }
}
