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

/** Mutable counters; cheap to update on every request. */
export class EdgeStats {
  private readonly counts = new Map<string, RequestCount>();
  private readonly histograms = new Map<string, { perBucket: number[]; count: number; sumMs: number }>();

  /** Counts one answered request for `project`; `ms` is the time until its response headers. */
  record(project: string, status: number, ms: number): void {
    const statusClass = `${Math.floor(status / 100)}xx`;
    const key = `${project}\u0000${statusClass}`;
    const counter = this.counts.get(key);
    if (counter) counter.count += 1;
    else this.counts.set(key, { project, statusClass, count: 1 });

    let h = this.histograms.get(project);
    if (!h) {
      h = { perBucket: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0), count: 0, sumMs: 0 };
      this.histograms.set(project, h);
    }
    const i = LATENCY_BUCKETS_MS.findIndex((le) => ms <= le);
    h.perBucket[i === -1 ? LATENCY_BUCKETS_MS.length : i]! += 1;
    h.count += 1;
    h.sumMs += ms;
  }

  /** A copy of every counter, safe to serialise. */
  snapshot(): EdgeStatsSnapshot {
    const requests = [...this.counts.values()].map((c) => ({ ...c }));
    const latency = [...this.histograms].map(([project, h]) => {
      let running = 0;
      const bounds = [...LATENCY_BUCKETS_MS, Infinity];
      const buckets = bounds.map((le, i) => ({ le, count: (running += h.perBucket[i]!) }));
      return { project, buckets, count: h.count, sumMs: h.sumMs };
    });
    return { requests, latency };
  }
}
