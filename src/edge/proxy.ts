/**
 * The edge: Slipway's HTTP reverse proxy. It routes each visitor by Host to one of its project's
 * instances, proxies HTTP and WebSockets to it, and lets instances that leave the route table
 * drain before the deploy worker stops them (kamal-proxy's router.go and service.go, in one).
 */
import type { Server } from 'bun';
import type { Visitor } from './forwarded.ts';
import { isWebSocketUpgrade, plainIp } from './headers.ts';
import { forwardHttp } from './http-exchange.ts';
import { edgePage } from './pages.ts';
import { RouteTable, type Route } from './route-table.ts';
import { EdgeStats, UNROUTED, type EdgeStatsSnapshot } from './stats.ts';
import { TargetRegistry, type Target } from './target.ts';
import { type Cidr, TrustedProxies } from './trusted-proxies.ts';
import { bridgeHandlers, UpstreamConnectError, WebSocketBridge } from './websocket-bridge.ts';

/** Default time an upstream gets to send its response headers. */
const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;

/**
 * Seconds a visitor's connection may sit idle between requests (nginx's keepalive_timeout).
 * While a request is being proxied the timer is off: the upstream timeout bounds the wait for
 * headers, and a quiet SSE stream must not be cut.
 */
const VISITOR_IDLE_SECONDS = 75;

/** Settings of the edge. */
export interface EdgeOptions {
  baseDomain: string;
  /** How long a target removed by setRoutes may keep its open exchanges before they are cut. */
  drainTimeoutMs: number;
  upstreamTimeoutMs?: number;
  /** Peers whose X-Forwarded-For the edge appends to (SLIPWAY_TRUSTED_PROXIES); nobody by default. */
  trustedProxies?: readonly Cidr[];
  log?: {
    info(m: string, f?: object): void;
    warn(m: string, f?: object): void;
    error(m: string, f?: object): void;
  };
}

const SILENT = { info() {}, warn() {}, error() {} };

/** Slipway's reverse proxy; the deploy worker feeds it routes and drains replaced instances. */
export class EdgeProxy {
  private table: RouteTable;
  private readonly targets = new TargetRegistry();
  private readonly counters = new EdgeStats();
  private readonly log: NonNullable<EdgeOptions['log']>;
  private readonly upstreamTimeoutMs: number;
  private readonly trusted: TrustedProxies;
  private server: Server<WebSocketBridge> | undefined;

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

  /** Starts listening (port 0 = random); returns the bound port. */
  listen(hostname: string, port: number): number {
    if (this.server) throw new Error('Cannot start the edge: it is already listening');
    this.server = Bun.serve<WebSocketBridge>({
      hostname,
      port,
      idleTimeout: VISITOR_IDLE_SECONDS,
      // Upload limits are the app's business; the edge streams bodies and holds none of them.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      development: false,
      fetch: (req, server) => this.handle(req, server),
      websocket: {
        ...bridgeHandlers,
        // Dropping messages silently is worse than disconnecting a visitor that cannot keep up.
        closeOnBackpressureLimit: true,
      },
      error: (err) => {
        this.log.error('The edge failed to answer a request', { error: err.message });
        return edgePage(502);
      },
    });
    this.log.info('Edge listening', { hostname, port: this.server.port });
    return this.server.port!;
  }

  /** Stops accepting, gives open exchanges up to drainTimeoutMs to finish, then closes everything. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // Stop accepting now; the promise settles only once every connection is gone, which is later.
    server.stop(false).catch(() => {});
    const addresses = this.targets.all().map((t) => t.address);
    await this.waitDrained(addresses, this.opts.drainTimeoutMs);
    await server.stop(true);
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

  private async handle(req: Request, server: Server<WebSocketBridge>): Promise<Response | undefined> {
    const started = performance.now();
    const route = this.table.lookup(req.headers.get('host'));
    if (!route) return this.answered(UNROUTED, started, edgePage(404, req.method));
    const address = route.pick();
    const target = address === undefined ? undefined : this.targets.find(address);
    if (!target) return this.answered(route.project, started, edgePage(503, req.method));

    const visitor: Visitor = { ip: plainIp(server.requestIP(req)?.address), proto: 'http' };
    if (isWebSocketUpgrade(req)) return this.upgrade(req, server, target, visitor, route.project, started);

    server.timeout(req, 0);
    const res = await forwardHttp(req, {
      target,
      visitor,
      trusted: this.trusted,
      timeoutMs: this.upstreamTimeoutMs,
      warn: (msg, fields) => this.log.warn(msg, { project: route.project, ...fields }),
      onEnd: () => restoreIdleTimeout(server, req),
    });
    return this.answered(route.project, started, res);
  }

  private async upgrade(
    req: Request,
    server: Server<WebSocketBridge>,
    target: Target,
    visitor: Visitor,
    project: string,
    started: number,
  ): Promise<Response | undefined> {
    let bridge: WebSocketBridge;
    server.timeout(req, 0);
    try {
      bridge = await WebSocketBridge.connect(req, target, visitor, this.trusted, this.upstreamTimeoutMs);
    } catch (err) {
      restoreIdleTimeout(server, req);
      if (!(err instanceof UpstreamConnectError)) throw err;
      this.log.warn('Proxying a WebSocket failed', { project, target: target.address, error: err.message });
      return this.answered(project, started, edgePage(err.status, req.method));
    }
    const headers = bridge.protocol ? { 'sec-websocket-protocol': bridge.protocol } : undefined;
    if (server.upgrade(req, { data: bridge, headers })) {
      this.counters.record(project, 101, performance.now() - started);
      return undefined;
    }
    bridge.cut();
    return this.answered(project, started, new Response('Expected a WebSocket handshake', { status: 400 }));
  }

  private answered(project: string, started: number, res: Response): Response {
    this.counters.record(project, res.status, performance.now() - started);
    return res;
  }
}

/** Puts back the keep-alive idle timer that proxying switched off; the request may be gone by now. */
function restoreIdleTimeout(server: Server<WebSocketBridge>, req: Request): void {
  try {
    server.timeout(req, VISITOR_IDLE_SECONDS);
  } catch {
    // The visitor's connection already closed: there is no timer left to restore.
  }
}
