import type { EdgeRepo } from '../db/edge.ts';
import type { Logger } from '../log.ts';
import type { EdgeProxy } from './proxy.ts';

/** How often the edge looks for a new route table. */
const POLL_MS = 100;
/** How often the edge publishes its request counters. */
const STATS_EVERY_MS = 2000;

/**
 * Keeps an EdgeProxy's routes in step with the route table in SQLite, which the API/worker
 * writes. The edge reports back the version it applied and the old targets that still have
 * requests in flight, which is what lets a swap wait for them. The same loop runs whether the
 * edge shares a process with the API or runs on its own, so the API can restart freely.
 */
export class EdgeSync {
  private timer: ReturnType<typeof setInterval> | null = null;
  private applied = -1;
  private routed = new Set<string>();
  private draining = new Set<string>();
  private lastReport = '';

  private lastStats = 0;

  constructor(
    private readonly repo: EdgeRepo,
    private readonly proxy: EdgeProxy,
    private readonly log: Logger,
    /** Receives the edge's request counters every few seconds, for /metrics in any process. */
    private readonly publishStats: (json: string) => void = () => {},
  ) {}

  /** Applies the current table now, then polls. */
  start(): void {
    this.tick();
    this.timer ??= setInterval(() => this.tick(), POLL_MS);
  }

  /** Stops polling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One poll: apply a new table if there is one, then report what still drains. */
  tick(): void {
    try {
      const version = this.repo.routesVersion();
      if (version !== this.applied) this.apply(version);
      this.report();
      if (Date.now() - this.lastStats >= STATS_EVERY_MS) {
        this.lastStats = Date.now();
        this.publishStats(JSON.stringify(this.proxy.stats()));
      }
    } catch (err) {
      this.log.warn('edge route sync failed', { error: String(err) });
    }
  }

  private apply(version: number): void {
    const rows = this.repo.routes();
    const routes = rows.map((r) => ({
      project: r.project,
      hostnames: JSON.parse(r.hostnames) as string[],
      targets: JSON.parse(r.targets) as string[],
    }));
    this.proxy.setRoutes(routes);
    const now = new Set(routes.flatMap((r) => r.targets));
    for (const t of this.routed) if (!now.has(t)) this.draining.add(t);
    for (const t of now) this.draining.delete(t);
    this.routed = now;
    this.applied = version;
  }

  private report(): void {
    const draining: { target: string; inflight: number }[] = [];
    for (const target of this.draining) {
      const inflight = this.proxy.inflight(target);
      if (inflight > 0) draining.push({ target, inflight });
      else this.draining.delete(target);
    }
    const report = JSON.stringify([this.applied, draining]);
    if (report === this.lastReport) return;
    this.repo.reportApplied(this.applied, draining);
    this.lastReport = report;
  }
}
