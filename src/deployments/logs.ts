import type { DeploymentLogRepo, LogRow } from '../db/deployment-logs.ts';

/** The longest line stored; the rest of a longer line is cut. */
export const MAX_LOG_LINE_CHARS = 16 * 1024;

/** How much output (what a build or an app printed) one deployment's log keeps. */
export const MAX_OUTPUT_CHARS = 10 * 1024 * 1024;

/**
 * The build and deploy log of every deployment: lines are masked (secret values), persisted with a
 * sequence number first, then waiting readers are woken. Readers always read from the database at
 * their own pace, so any number of followers, slow or gone, never hold up the build that writes.
 * Lines are cut at MAX_LOG_LINE_CHARS; output a project controls (appendOutput) stops being kept
 * past MAX_OUTPUT_CHARS, with one line saying so, while Slipway's own lines (append) always are.
 */
export class DeploymentLogs {
  private readonly next = new Map<string, number>();
  private readonly output = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly repo: DeploymentLogRepo,
    /** Masks the project's secret values in a deployment's lines. */
    private readonly mask: (deploymentId: string) => (line: string) => string = () => (line) => line,
  ) {}

  /** Appends Slipway's own `text`, one row per line; trailing newlines and carriage returns are dropped. */
  append(deploymentId: string, text: string): void {
    this.write(deploymentId, text, false);
  }

  /** Appends output a project controls (build output, an app's last lines), within the log's cap. */
  appendOutput(deploymentId: string, text: string): void {
    this.write(deploymentId, text, true);
  }

  private write(deploymentId: string, text: string, counted: boolean): void {
    const at = new Date().toISOString();
    const mask = this.mask(deploymentId);
    const rows: LogRow[] = [];
    let seq = this.next.get(deploymentId) ?? this.repo.lastSeq(deploymentId);
    for (const raw of text.replace(/\r?\n$/, '').split(/\r?\n/)) {
      // Masked before the cut, so a secret across the cut is still hidden.
      let line = mask(raw.replace(/\r/g, ''));
      if (line.length > MAX_LOG_LINE_CHARS) line = `${line.slice(0, MAX_LOG_LINE_CHARS)} [line cut at 16 KiB]`;
      if (counted) {
        const used = this.output.get(deploymentId) ?? 0;
        if (used > MAX_OUTPUT_CHARS) continue;
        this.output.set(deploymentId, used + line.length);
        if (used + line.length > MAX_OUTPUT_CHARS) {
          line = `Log truncated: output past ${MAX_OUTPUT_CHARS / 1024 / 1024} MiB is not kept`;
        }
      }
      rows.push({ seq: ++seq, at, line });
    }
    // One commit for the whole text (a relaxed one: synced by the deployment's next status change).
    if (rows.length === 1) this.repo.append(deploymentId, rows[0]!.seq, at, rows[0]!.line);
    else if (rows.length > 1) this.repo.appendAll(deploymentId, rows);
    if (rows.length > 0) this.next.set(deploymentId, seq);
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

  /** Forgets the in-memory counters of a finished deployment. */
  forget(deploymentId: string): void {
    this.next.delete(deploymentId);
    this.output.delete(deploymentId);
  }
}
