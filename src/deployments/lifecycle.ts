/**
 * The deployment state machine, and the only code that changes a deployment's status.
 *
 *   queued ──▶ building ──▶ deploying ──▶ live ──▶ replaced
 *     │           │             │
 *     └───────────┴─────────────┴──▶ failed | canceled
 *
 * failed, canceled and replaced are terminal: nothing leaves them. A live deployment leaves only
 * by being replaced when a newer one goes live. Every change is a compare-and-set on the status
 * it was checked against, so two writers can never both win; a transition outside the table is
 * refused and logged, never written.
 */
import type { Db } from '../db/open.ts';
import type { DeploymentRepo, DeploymentRow, DeploymentStatus, NewDeployment } from '../db/deployments.ts';
import type { Logger } from '../log.ts';
import { relaxedCommits } from '../db/relaxed.ts';
import { nowIso } from '../ids.ts';
import type { DeploymentLogs } from './logs.ts';
import { type DeploymentFailure, Interrupted, Superseded } from './failures.ts';

/** Where each status may go next. */
export const TRANSITIONS: Readonly<Record<DeploymentStatus, readonly DeploymentStatus[]>> = {
  queued: ['building', 'failed', 'canceled'],
  building: ['deploying', 'failed', 'canceled'],
  deploying: ['live', 'failed', 'canceled'],
  live: ['replaced'],
  failed: [],
  canceled: [],
  replaced: [],
};

/** Statuses of a deployment the worker runs. */
export const RUNNING: readonly DeploymentStatus[] = ['building', 'deploying'];

/** Statuses of a deployment that has not ended yet (its log may still grow). */
export const UNFINISHED: readonly DeploymentStatus[] = ['queued', 'building', 'deploying'];

/** Statuses after which nothing more happens to a deployment's log. */
export const FINAL_STATUSES: readonly DeploymentStatus[] = ['live', 'failed', 'canceled', 'replaced'];

/** Whether the table allows `from` → `to`. */
export function canTransition(from: DeploymentStatus, to: DeploymentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** What the lifecycle needs. */
export interface LifecycleDeps {
  db: Db;
  deployments: DeploymentRepo;
  logs: DeploymentLogs;
  log: Logger;
}

/** Extra columns written with a status change. */
type Patch = Parameters<DeploymentRepo['setDeploymentStatus']>[3];

/** The deployment lifecycle of one database. */
export function deploymentLifecycle(d: LifecycleDeps) {
  const relaxed = relaxedCommits(d.db);

  /**
   * Moves deployment `id` to `to`, with `patch`, when the table allows it from its current
   * status and (if given) that status is one of `expected`. An unexpected but legal status
   * (a race the caller lost, e.g. canceled meanwhile) returns false quietly; a move the table
   * forbids is refused and logged.
   */
  function transition(id: string, to: DeploymentStatus, patch: Patch = {}, expected?: readonly DeploymentStatus[]) {
    const row = d.deployments.findAny(id);
    if (!row) return false;
    if (expected && !expected.includes(row.status)) return false;
    if (!canTransition(row.status, to)) {
      d.log.warn('refused an illegal deployment transition', { deployment: id, from: row.status, to });
      return false;
    }
    return d.deployments.setDeploymentStatus(id, row.status, to, patch);
  }

  /** Ends an unfinished deployment with `failure`'s outcome and reason, and says so in its log. */
  function end(id: string, failure: DeploymentFailure, expected: readonly DeploymentStatus[] = UNFINISHED): boolean {
    const ended = transition(id, failure.outcome, { failure_reason: failure.message, finished_at: nowIso() }, expected);
    if (ended) d.logs.append(id, `Deployment ${failure.outcome}: ${failure.message}`);
    return ended;
  }

  const liveOf = (projectId: string): DeploymentRow | undefined => d.deployments.ofProjectWith(projectId, ['live'])[0];

  return {
    transition,
    end,

    /** The deployment of a project that visitors are served by, if any. */
    liveOf,

    /** The deployment of a project the worker is running (building or deploying), if any. */
    runningOf: (projectId: string): DeploymentRow | undefined => d.deployments.ofProjectWith(projectId, RUNNING)[0],

    /**
     * Inserts a queued deployment and, in the same transaction, supersedes (cancels) the project's
     * older queued ones and runs `within` (the caller's activity record). Logs after commit.
     */
    enqueue(row: NewDeployment, within: (created: DeploymentRow) => void = () => {}): DeploymentRow {
      const { created, superseded } = d.db.transaction(() => {
        const created = d.deployments.insert(row);
        const superseded = d.deployments
          .queuedOf(row.project_id, created.id)
          .filter((o) => transition(o.id, 'canceled', supersededPatch(created), ['queued']));
        within(created);
        return { created, superseded };
      })();
      // Their logs say why they ended, and appending wakes whoever follows them.
      for (const o of superseded) d.logs.append(o.id, `Deployment canceled: ${new Superseded(created.number).message}`);
      d.logs.append(created.id, `Deployment #${created.number} queued (${created.trigger})`);
      return created;
    },

    /**
     * The worker's claim: queued → building, committed before any side effect. The commit is not
     * synced on its own (db/relaxed.ts): the deployment's next synced commit, live or its end,
     * makes it durable; a power cut before that leaves it queued, to be run again.
     */
    claim: (id: string): boolean => relaxed(() => transition(id, 'building', { started_at: nowIso() }, ['queued'])),

    /**
     * building → deploying, once the image exists, with `patch` (what the build found) in the same
     * commit; false when it was canceled meanwhile. Not synced on its own either, like the claim: a
     * power cut before live leaves the deployment building, which recovery ends as interrupted
     * (what it made is found by its labels; an unrecorded image tag goes at the next pruning).
     */
    startDeploying(id: string, patch: Patch = {}): boolean {
      const moved = relaxed(() => transition(id, 'deploying', patch, ['building']));
      if (moved) d.logs.wake(id);
      return moved;
    },

    /**
     * Goes live: `row` deploying → live and the project's previous live deployment → replaced,
     * with `within` (the release's own bookkeeping) and the "is live" log line, in one transaction,
     * so a reader never sees two live deployments, or live without its log line.
     */
    goLive(row: DeploymentRow, within: () => void = () => {}): boolean {
      return d.db.transaction(() => {
        const previous = liveOf(row.project_id);
        if (!transition(row.id, 'live', { finished_at: nowIso() }, ['deploying'])) return false;
        if (previous && previous.id !== row.id) transition(previous.id, 'replaced', {}, ['live']);
        within();
        d.logs.append(row.id, `Deployment #${row.number} is live`);
        return true;
      })();
    },

    /** After a crash or a stop: every running deployment ends failed (interrupted). Returns them. */
    interruptAll(): DeploymentRow[] {
      const failure = new Interrupted();
      return d.deployments.withStatus(RUNNING).filter((row) => {
        if (!end(row.id, failure, RUNNING)) return false;
        d.log.warn('deployment interrupted by a restart', {
          deployment: row.id,
          project: row.project,
          was: row.status,
        });
        return true;
      });
    },
  };
}

function supersededPatch(by: DeploymentRow): Patch {
  return { failure_reason: new Superseded(by.number).message, finished_at: nowIso() };
}

/** The deployment lifecycle. */
export type Lifecycle = ReturnType<typeof deploymentLifecycle>;
