/**
 * The edge's counters, kept in memory for the metrics endpoint: requests by project and status
 * class, and a latency histogram per project. Latency is measured to the response headers, so a
 * long download or an hour-long SSE stream does not land in the slowest bucket.
 */

/** Upper bounds of the latency buckets, in milliseconds; the last bucket is unbounded. */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

/** Requests answered for one project with one status class. */
export interface RequestCount {
  project: string;
  /** "2xx", "3xx", "4xx" or "5xx"; a WebSocket that opened is "1xx" */
  statusClass: string;
  count: number;
}

/** A Prometheus-style cumulative histogram of time to response headers. */
export interface LatencyHistogram {
  project: string;
  /** Cumulative counts: requests that took at most `le` ms; the last bucket has `le: Infinity`. */
  buckets: { le: number; count: number }[];
  count: number;
  sumMs: number;
}

/** What EdgeProxy.stats() returns. */
export interface EdgeStatsSnapshot {
  requests: RequestCount[];
  latency: LatencyHistogram[];
}

/** The project label used for requests to a host no route claims. */
export const UNROUTED = '';

/** One project's counters: requests by status class (index 1 to 9, as status / 100) and latency buckets. */
interface ProjectCounters {
  byClass: number[];
  perBucket: number[];
  count: number;
  sumMs: number;
}

/** Mutable counters; cheap to update on every request (a map lookup and a few increments). */
export class EdgeStats {
  private readonly projects = new Map<string, ProjectCounters>();
  /** The (project, status class) pairs in the order they were first counted. */
  private readonly seen: [string, number][] = [];
  /** The snapshot of the counters as they stand, until the next request is counted. */
  private current: EdgeStatsSnapshot | null = null;
  private changed: (() => void) | null = null;

  /** Counts one answered request for `project`; `ms` is the time until its response headers. */
  record(project: string, status: number, ms: number): void {
    let p = this.projects.get(project);
    if (!p) {
      p = {
        byClass: new Array(10).fill(0),
        perBucket: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0),
        count: 0,
        sumMs: 0,
      };
      this.projects.set(project, p);
    }
    const statusClass = Math.floor(status / 100) % 10;
    if (p.byClass[statusClass] === 0) this.seen.push([project, statusClass]);
    p.byClass[statusClass]! += 1;
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
    p.perBucket[i]! += 1;
    p.count += 1;
    p.sumMs += ms;
    if (this.current !== null) {
      this.current = null;
      this.changed?.();
    }
  }

  /**
   * Calls `listener` at the first request counted after a snapshot was taken, so that the
   * counters are reported when they changed instead of on a timer that would wake an idle edge.
   */
  onChange(listener: () => void): void {
    this.changed = listener;
  }

  /**
   * A copy of every counter, safe to serialise. The same object is returned until a request is
   * counted, which also tells the caller that nothing changed; it must not be modified.
   */
  snapshot(): EdgeStatsSnapshot {
    this.current ??= this.take();
    return this.current;
  }

  private take(): EdgeStatsSnapshot {
    const requests = this.seen.map(([project, c]) => ({
      project,
      statusClass: `${c}xx`,
      count: this.projects.get(project)!.byClass[c]!,
    }));
    const latency = [...this.projects].map(([project, h]) => {
      let running = 0;
      const bounds = [...LATENCY_BUCKETS_MS, Infinity];
      const buckets = bounds.map((le, i) => ({ le, count: (running += h.perBucket[i]!) }));
      return { project, buckets, count: h.count, sumMs: h.sumMs };
    });
    return { requests, latency };
  }
}
