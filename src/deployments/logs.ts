import type { DeploymentLogRepo, LogRow } from '../db/deployment-logs.ts';

/**
 * The build and deploy log of every deployment: lines are masked (secret values), persisted with a sequence number
 * first, then waiting readers are woken. Readers always read from the database at their own
 * pace, so any number of followers, slow or gone, never hold up the build that writes.
 */
export class DeploymentLogs {
  private readonly next = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly repo: DeploymentLogRepo,
    /** Masks the project's secret values in a deployment's lines. */
    private readonly mask: (deploymentId: string) => (line: string) => string = () => (line) => line,
  ) {}

  /** Appends `text`, one row per line; trailing newlines and carriage returns are dropped. */
  append(deploymentId: string, text: string): void {
    const at = new Date().toISOString();
    const mask = this.mask(deploymentId);
    for (const raw of text.replace(/\r?\n$/, '').split(/\r?\n/)) {
      const line = mask(raw.replace(/\r/g, ''));
      const seq = (this.next.get(deploymentId) ?? this.repo.lastSeq(deploymentId)) + 1;
      this.repo.append(deploymentId, seq, at, line);
      this.next.set(deploymentId, seq);
    }
    this.wake(deploymentId);
  }

  /** Lines after `seq`, oldest first, at most `limit`. */
  read(deploymentId: string, afterSeq: number, limit = 1000): LogRow[] {
    return this.repo.after(deploymentId, afterSeq, limit);
  }

  /** Wakes readers of a deployment, for new lines or a change of status. */
  wake(deploymentId: string): void {
    const set = this.waiters.get(deploymentId);
    if (!set) return;
    this.waiters.delete(deploymentId);
    for (const resolve of set) resolve();
  }

  /** Resolves on the next wake of `deploymentId`, or after `timeoutMs`. */
  waitFor(deploymentId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(deploymentId);
      if (!set) this.waiters.set(deploymentId, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        set!.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      set.add(done);
    });
  }

  /** Forgets the in-memory counter of a finished deployment. */
  forget(deploymentId: string): void {
    this.next.delete(deploymentId);
  }
}
