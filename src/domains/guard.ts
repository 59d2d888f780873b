/** One piece of work per domain at a time: a check or a certificate order, never two at once. */

/** What runs for a domain. */
export type GuardedWork = 'check' | 'issue';

interface Running {
  work: GuardedWork;
  done: Promise<unknown>;
}

/**
 * The domains being worked on, by id. The checker and the API's verify share one guard, so a
 * domain is never checked twice at once, nor checked while its certificate is being ordered.
 */
export class DomainGuard {
  private readonly running = new Map<string, Running>();

  /** What runs for `id` now, or null. */
  current(id: string): Running | null {
    return this.running.get(id) ?? null;
  }

  /**
   * Runs `fn` for `id` unless something already runs for it (then returns null). `fn` may call
   * `now('issue')` to say the check it began has become an order.
   */
  tryRun<T>(id: string, work: GuardedWork, fn: (now: (work: GuardedWork) => void) => Promise<T>): Promise<T> | null {
    if (this.running.has(id)) return null;
    const entry: Running = { work, done: Promise.resolve() };
    this.running.set(id, entry);
    const done = (async () => {
      try {
        return await fn((next) => {
          entry.work = next;
        });
      } finally {
        this.running.delete(id);
      }
    })();
    entry.done = done.catch(() => {});
    return done;
  }

  /** Resolves when nothing runs any more (for a clean stop). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((r) => r.done));
  }
}
