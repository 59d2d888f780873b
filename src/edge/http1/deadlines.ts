/**
 * Deadlines without a timer per request: entries sit in a set with the time they are due, and one
 * timer, running only while there are entries, sweeps the set every `tickMs`. A deadline thus
 * fires up to one tick late, which is why the tick is a fraction of the shortest timeout in use.
 * Removing one only marks it (due = Infinity); the sweep drops it from the set, so a connection
 * whose deadline is re-armed for each request costs the set nothing per request.
 */

/** Something that must happen at `due` (a performance.now() time) unless removed first. */
export interface Deadline {
  due: number;
  /** Whether it sits in a set of deadlines (set and cleared by Deadlines). */
  queued?: boolean;
  expire(): void;
}

/** A set of deadlines swept by one timer. */
export class Deadlines {
  private readonly entries = new Set<Deadline>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly tickMs: number) {}

  /** Starts (or moves) `deadline`, due `ms` from now. */
  add(deadline: Deadline, ms: number): void {
    deadline.due = performance.now() + ms;
    if (deadline.queued) return;
    deadline.queued = true;
    this.entries.add(deadline);
    this.timer ??= setInterval(() => this.sweep(), this.tickMs);
  }

  /** Stops `deadline` from expiring (until it is added again). */
  remove(deadline: Deadline): void {
    deadline.due = Number.POSITIVE_INFINITY;
  }

  /** Stops the timer; entries are dropped without expiring. */
  clear(): void {
    for (const entry of this.entries) entry.queued = false;
    this.entries.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    const now = performance.now();
    for (const entry of this.entries) {
      if (entry.due > now && entry.due !== Number.POSITIVE_INFINITY) continue;
      this.entries.delete(entry);
      entry.queued = false;
      if (entry.due <= now) entry.expire();
    }
    if (this.entries.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** A tick for timeouts as short as `shortestMs`: a tenth of it, within 10 ms and 1 s. */
export function tickFor(shortestMs: number): number {
  return Math.min(1000, Math.max(10, Math.floor(shortestMs / 10)));
}
