/**
 * Deadlines without a timer per request: entries sit in a set with the time they are due, and one
 * timer, running only while there are entries, sweeps the set every `tickMs`. A deadline thus
 * fires up to one tick late, which is why the tick is a fraction of the shortest timeout in use.
 */

/** Something that must happen at `due` (a performance.now() time) unless removed first. */
export interface Deadline {
  due: number;
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
    this.entries.add(deadline);
    this.timer ??= setInterval(() => this.sweep(), this.tickMs);
  }

  remove(deadline: Deadline): void {
    this.entries.delete(deadline);
  }

  /** Stops the timer; entries are dropped without expiring. */
  clear(): void {
    this.entries.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    const now = performance.now();
    for (const entry of this.entries) {
      if (entry.due > now) continue;
      this.entries.delete(entry);
      entry.expire();
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
