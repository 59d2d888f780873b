import type { Logger } from '../log.ts';
import type { Draining, EdgeState } from './edge-state.ts';
import type { EdgeProxy } from './proxy.ts';
import type { RouteSnapshot, StoreHead } from './route-store.ts';
import { isBusy, type RouteStoreReader } from './route-store-reader.ts';

/** How often the edge looks for a new route table. */
const POLL_MS = 100;
/** How often the edge reports its request counters when nothing else changed. */
const STATS_EVERY_MS = 2000;

/**
 * Keeps what an EdgeProxy serves (routes, host names, certificates, challenges) in step with the
 * route store, which the API writes, and reports back through the edge's state file the version it
 * applied and the old targets that still have requests in flight, which is what lets a swap wait
 * for them. The same loop runs whether the edge shares a process with the API or runs on its own,
 * so the API can restart freely. When the store cannot be read, the proxy keeps what it last applied.
 */
export class EdgeSync {
  private timer: ReturnType<typeof setInterval> | null = null;
  private applied: StoreHead | null = null;
  private routed = new Set<string>();
  private draining = new Set<string>();
  private lastReport = '';
  private lastReportAt = 0;
  /** The last error of each half of a poll, so that a lasting failure is logged once. */
  private readonly failing = new Map<string, string>();

  constructor(
    private readonly store: RouteStoreReader,
    private readonly writeState: (state: EdgeState) => void,
    private readonly proxy: EdgeProxy,
    private readonly log: Logger,
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
    this.attempt('cannot read the route store; serving the routes applied last', () => this.pull());
    this.attempt('cannot write the edge state', () => this.report());
  }

  private pull(): void {
    const head = this.store.head();
    if (!head || (head.storeId === this.applied?.storeId && head.version === this.applied.version)) return;
    const snapshot = this.store.snapshot();
    if (snapshot) this.apply(snapshot);
  }

  private apply(snapshot: RouteSnapshot): void {
    this.proxy.apply(snapshot);
    const now = new Set(snapshot.routes.flatMap((r) => r.targets));
    for (const t of this.routed) if (!now.has(t)) this.draining.add(t);
    for (const t of now) this.draining.delete(t);
    this.routed = now;
    this.applied = { storeId: snapshot.storeId, version: snapshot.version };
  }

  private report(): void {
    const draining: Draining[] = [];
    for (const target of this.draining) {
      const inflight = this.proxy.inflight(target);
      if (inflight > 0) draining.push({ target, inflight });
      else this.draining.delete(target);
    }
    const report = JSON.stringify([this.applied, draining]);
    if (report === this.lastReport && Date.now() - this.lastReportAt < STATS_EVERY_MS) return;
    this.writeState({ applied: this.applied, draining, stats: this.proxy.stats(), at: new Date().toISOString() });
    this.lastReport = report;
    this.lastReportAt = Date.now();
  }

  /** Runs one half of a poll; a failure is logged once until it changes, a busy store not at all. */
  private attempt(what: string, step: () => void): void {
    try {
      step();
      this.failing.delete(what);
    } catch (err) {
      if (isBusy(err)) return; // the API is committing; the next poll reads its result
      const error = String(err);
      if (this.failing.get(what) !== error) this.log.warn(what, { error });
      this.failing.set(what, error);
    }
  }
}
