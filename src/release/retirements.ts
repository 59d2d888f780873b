/**
 * Old instances that still drain after a release switched traffic away from them. A release
 * lets go of its project once traffic has moved, so the project's next deploy need not wait out
 * the drain (up to the drain timeout with long-lived connections: SSE, WebSockets). The old
 * instances finish their requests and are removed in the background; meanwhile the project's
 * later operations leave them alone: the reconciler does not take them for strays, and a later
 * rollout does not retire them a second time. Operations that need every instance gone (stop,
 * a volume restore) still list and remove them, which the background removal tolerates.
 */
export class Retirements {
  private readonly ids = new Set<string>();
  private readonly pending = new Set<Promise<void>>();

  /** Whether the instance `id` is draining on its way out. */
  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Marks `ids` as retiring until `work` (their drain and removal, and what follows) settles. */
  add(ids: string[], work: Promise<void>, onError: (err: unknown) => void): void {
    for (const id of ids) this.ids.add(id);
    const done: Promise<void> = work.catch(onError).finally(() => {
      for (const id of ids) this.ids.delete(id);
      this.pending.delete(done);
    });
    this.pending.add(done);
  }

  /** Settles once every retirement under way now has finished (a graceful shutdown waits for it). */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
