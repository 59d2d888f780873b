/**
 * One operation at a time per project (deploy, rollback, restart, scale, stop, start, repair),
 * so that two of them never start and stop each other's containers.
 */
export class ProjectLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Whether an operation holds, or waits for, `project`'s lock now. */
  held(project: string): boolean {
    return this.tails.has(project);
  }

  /** Runs `fn` once every earlier holder of `project`'s lock has finished. */
  async run<T>(project: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(project) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(project, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(project) === tail) this.tails.delete(project);
    }
  }
}
