import type { DeploymentRepo, DeploymentRow } from '../db/deployments.ts';
import type { Logger } from '../log.ts';
import type { DeploymentLogs } from '../deployments/logs.ts';
import type { Lifecycle } from '../deployments/lifecycle.ts';
import { InternalFailure } from '../deployments/failures.ts';

/** Runs one claimed deployment to its end; must honour `signal` promptly. */
export type DeploymentRunner = (row: DeploymentRow, signal: AbortSignal) => Promise<void>;

/** Why a run was aborted. */
export type AbortReason = 'canceled' | 'shutdown';

/** How often the queue is polled when nobody kicks it. */
const POLL_MS = 1000;

/** What the worker needs. */
export interface WorkerDeps {
  deployments: DeploymentRepo;
  lifecycle: Lifecycle;
  logs: DeploymentLogs;
  log: Logger;
  /** How many deployments may run at once, over all projects (SLIPWAY_BUILD_CONCURRENCY). */
  concurrency: number;
  runner: DeploymentRunner;
}

/**
 * The durable queue's worker: deployments in status `queued` are the jobs. It runs at most
 * one per project and `concurrency` overall, oldest first. Claiming a job is a committed
 * status change (queued → building) made before any side effect starts.
 */
export class DeployWorker {
  private readonly running = new Map<string, { projectId: string; controller: AbortController; done: Promise<void> }>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private stopping = false;

  constructor(private readonly d: WorkerDeps) {}

  /** Starts polling. */
  start(): void {
    this.stopping = false;
    this.timer ??= setInterval(() => this.tick(), POLL_MS);
    this.kick();
  }

  /** Looks for runnable jobs now rather than at the next poll. */
  kick(): void {
    if (this.timer) queueMicrotask(() => this.tick());
  }

  /** Aborts a running deployment; false when this worker is not running it. */
  cancel(deploymentId: string): boolean {
    const run = this.running.get(deploymentId);
    if (!run) return false;
    run.controller.abort('canceled' satisfies AbortReason);
    return true;
  }

  /** Stops taking jobs and aborts running ones, which end `failed` with reason interrupted. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const run of this.running.values()) run.controller.abort('shutdown' satisfies AbortReason);
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** How many deployments run now. */
  get active(): number {
    return this.running.size;
  }

  private tick(): void {
    while (!this.stopping && this.running.size < this.d.concurrency) {
      const busy = [...this.running.values()].map((r) => r.projectId);
      const next = this.d.deployments.nextRunnable(busy);
      if (!next) return;
      if (!this.d.lifecycle.claim(next.id)) continue;
      this.d.logs.wake(next.id);
      const controller = new AbortController();
      const done = this.run({ ...next, status: 'building' }, controller.signal).finally(() => {
        this.running.delete(next.id);
        this.d.logs.forget(next.id);
        this.kick();
      });
      this.running.set(next.id, { projectId: next.project_id, controller, done });
    }
  }

  private async run(row: DeploymentRow, signal: AbortSignal): Promise<void> {
    try {
      await this.d.runner(row, signal);
    } catch (err) {
      // The runner records its own failures; this only catches its bugs.
      this.d.log.error('deployment runner crashed', {
        deployment: row.id,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
      this.d.lifecycle.end(row.id, new InternalFailure(err));
    }
  }
}
