/**
 * Deadlines without a timer per request: entries sit in a list with the time they are due, and one
 * timer, running only while there are entries, sweeps the list every `tickMs`. A deadline thus
 * fires up to one tick late, which is why the tick is a fraction of the shortest timeout in use.
 * Removing one only marks it (due = Infinity); the sweep drops it from the list, so a connection
 * whose deadline is re-armed for each request costs the list nothing per request. The list is a
 * SlotList rather than a Set, which would keep the deadlines of closed connections reachable.
 */
import { SlotList } from '../slot-list.ts';

/** Something that must happen at `due` (a performance.now() time) unless removed first. */
export interface Deadline {
  due: number;
  /** Where it sits in a list of deadlines (set and cleared by Deadlines): -1 or absent while in none. */
  deadlineSlot?: number;
  expire(): void;
}

/** A set of deadlines swept by one timer. */
export class Deadlines {
  private readonly entries = new SlotList<'deadlineSlot', Deadline>('deadlineSlot');
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly tickMs: number) {}

  /** Starts (or moves) `deadline`, due `ms` from `now` (performance.now(), when the caller has just read it). */
  add(deadline: Deadline, ms: number, now = performance.now()): void {
    deadline.due = now + ms;
    if (this.entries.has(deadline)) return;
    this.entries.add(deadline);
    this.timer ??= setInterval(() => this.sweep(), this.tickMs);
  }

  /** Stops `deadline` from expiring (until it is added again). */
  remove(deadline: Deadline): void {
    deadline.due = Number.POSITIVE_INFINITY;
  }

  /** Stops the timer; entries are dropped without expiring. */
  clear(): void {
    this.entries.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    const now = performance.now();
    let expired: Deadline[] | undefined;
    // Backwards: removing the entry at i moves the last one, already seen, into its place.
    for (let i = this.entries.size - 1; i >= 0; i--) {
      const entry = this.entries.at(i);
      if (entry.due > now && entry.due !== Number.POSITIVE_INFINITY) continue;
      this.entries.remove(entry);
      if (entry.due <= now) (expired ??= []).push(entry);
    }
    // Expired after the sweep: what an expiry does (closing a socket) may add or remove deadlines.
    if (expired) for (const entry of expired) entry.expire();
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
