/**
 * Fixed-window request counters per key (a token id or a client IP), with a hard bound on
 * the number of keys held: when full, expired windows are dropped first, then the least
 * recently started ones, so memory stays bounded under a flood of distinct clients.
 */

/** The outcome of one hit. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

interface Window {
  start: number;
  count: number;
}

/** A bounded set of fixed one-minute windows. */
export class RateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly maxKeys = 10_000,
    private readonly windowMs = 60_000,
  ) {}

  /** Counts one request for `key` against `limit` per window. */
  hit(key: string, limit: number, now = Date.now()): RateDecision {
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      this.windows.delete(key);
      this.makeRoom(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    const resetSeconds = Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000));
    return { allowed: w.count <= limit, limit, remaining: Math.max(0, limit - w.count), resetSeconds };
  }

  /** How many keys are held now. */
  get size(): number {
    return this.windows.size;
  }

  private makeRoom(now: number): void {
    if (this.windows.size < this.maxKeys) return;
    for (const [key, w] of this.windows) {
      if (now - w.start >= this.windowMs) this.windows.delete(key);
    }
    // Map iteration follows insertion order, so the first keys are the oldest windows.
    for (const key of this.windows.keys()) {
      if (this.windows.size < this.maxKeys) break;
      this.windows.delete(key);
    }
  }
}
