import type { Logger } from '../log.ts';
import type { Draining, EdgeState } from './edge-state.ts';
import type { EdgeProxy } from './proxy.ts';
import type { RouteSnapshot, StoreHead } from './route-store.ts';
import type { EdgeStatsSnapshot } from './stats.ts';
import { isBusy, type RouteStoreReader } from './route-store-reader.ts';
import { StoreWatch } from './store-watch.ts';

/**
 * How often the edge looks for a new route table when it cannot watch the store, and reports
 * while old targets drain (the API waits for them to reach zero in-flight requests).
 */
const POLL_MS = 100;
/** How often it looks anyway while it watches the store: a lost or missed watch event costs this much delay. */
const FALLBACK_MS = 5000;
/** How soon it reads again after finding the store locked by a commit (the commit's last event came already). */
const BUSY_RETRY_MS = 10;
/**
 * How often at most the edge reports its request counters when nothing else changed; it reports
 * them only when a request was counted since.
 */
const STATS_EVERY_MS = 2000;

/**
 * Keeps what an EdgeProxy serves (routes, host names, certificates, challenges) in step with the
 * route store, which the API writes, and reports back through the edge's state file the version it
 * applied and the old targets that still have requests in flight, which is what lets a swap wait
 * for them. The same loop runs whether the edge shares a process with the API or runs on its own,
 * so the API can restart freely. When the store cannot be read, the proxy keeps what it last applied.
 */
export class EdgeSync {
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** When the pending timer fires (epoch ms). */
  private timerAt = 0;
  private running = false;
  /** Whether a change is seen without polling for it: the store's directory is watched, or the writer tells. */
  private watched = false;
  private readonly watch: StoreWatch;
  private applied: StoreHead | null = null;
  private routed = new Set<string>();
  private draining = new Set<string>();
  private lastReport = '';
  private lastStats: EdgeStatsSnapshot | null = null;
  private lastReportAt = 0;
  /** The last error of each half of a pass, so that a lasting failure is logged once. */
  private readonly failing = new Map<string, string>();

  /**
   * `toldOfChanges`: the store's writer calls tick() after each change it commits (the API, in an
   * edge that shares its process), so the store's directory is not watched: a watch would see the
   * same commits again and keep an inotify thread for them. The FALLBACK_MS look stays.
   */
  constructor(
    private readonly store: RouteStoreReader,
    private readonly writeState: (state: EdgeState) => void,
    private readonly proxy: EdgeProxy,
    private readonly log: Logger,
    private readonly toldOfChanges = false,
  ) {
    this.watch = new StoreWatch(store.file, () => this.later(0));
  }

  /**
   * Applies the current table now, then follows the store: at each change it sees, and every
   * FALLBACK_MS. Between changes an idle edge runs nothing else, but for reporting what drains
   * while something does and its counters after requests.
   */
  start(): void {
    this.running = true;
    this.proxy.onStatsChange(() => this.later(STATS_EVERY_MS));
    this.tick();
  }

  /** Stops following the store. */
  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.watch.close();
  }

  /**
   * One pass: apply a new table if there is one, then report what still drains. Once started,
   * it also moves the watch where it belongs (first, so that no change after this read goes
   * unseen) and sets when the next pass runs.
   */
  tick(): void {
    if (this.running) this.watched = this.toldOfChanges || this.watch.arm();
    const readable = this.attempt('cannot read the route store; serving the routes applied last', () => this.pull());
    this.attempt('cannot write the edge state', () => this.report());
    const polled = !this.watched || this.draining.size > 0;
    this.later(readable === 'busy' ? BUSY_RETRY_MS : polled ? POLL_MS : FALLBACK_MS);
  }

  /** Once started, makes the next pass run within `ms`, unless one is due sooner already. */
  private later(ms: number): void {
    if (!this.running) return;
    const at = Date.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick();
    }, ms);
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
    const stats = this.proxy.stats(); // the same object while no request was counted
    if (report === this.lastReport) {
      if (stats === this.lastStats) return;
      const wait = this.lastReportAt + STATS_EVERY_MS - Date.now();
      if (wait > 0) {
        this.later(wait); // counters alone are reported at most every STATS_EVERY_MS
        return;
      }
    }
    this.writeState({ applied: this.applied, draining, stats, at: new Date().toISOString() });
    this.lastReport = report;
    this.lastStats = stats;
    this.lastReportAt = Date.now();
  }

  /** Runs one half of a pass; a failure is logged once until it changes, a busy store not at all. */
  private attempt(what: string, step: () => void): 'done' | 'busy' | 'failed' {
    try {
      step();
      this.failing.delete(what);
      return 'done';
    } catch (err) {
      if (isBusy(err)) return 'busy'; // the API is committing; a pass right after it reads its result
      const error = String(err);
      if (this.failing.get(what) !== error) this.log.warn(what, { error });
      this.failing.set(what, error);
      return 'failed';
    }
  }
}
