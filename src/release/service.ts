import type { DeploymentRepo, DeploymentRow } from '../db/deployments.ts';
import type { Lifecycle } from '../deployments/lifecycle.ts';
import type { ProjectRepo, ProjectRow } from '../db/projects.ts';
import type { ActivityService, Actor } from '../activity/service.ts';
import type { DeploymentLogs } from '../deployments/logs.ts';
import type { Releaser } from '../jobs/pipeline.ts';
import { ConflictError } from '../errors.ts';
import { nowIso } from '../ids.ts';
import { ProjectLocks } from './locks.ts';
import { rollOut, type RolloutDeps } from './rollout.ts';
import { pruneImages } from './images.ts';
import { waitDrained } from './drain.ts';
import { lifecycleError } from './lifecycle-errors.ts';
import { findProject } from '../projects/find.ts';
import { checkQuota } from '../projects/quota.ts';
import { quotaOf } from '../projects/service.ts';
import { checkInstancesWithVolumes } from '../volumes/spec.ts';

/** What releases and lifecycle operations need. */
export interface ReleaseDeps extends RolloutDeps {
  /** Makes a rolled-back-to release's env the project's env again. */
  restoreEnv(projectId: string, sealedSnapshot: string): void;
  deployments: DeploymentRepo;
  lifecycle: Lifecycle;
  projects: ProjectRepo;
  activity: ActivityService;
  logs: DeploymentLogs;
  releaseRetention: number;
}

/** Taking deployments live, and stop/start/restart/scale of the live release. */
export function releaseService(d: ReleaseDeps) {
  const locks = new ProjectLocks();

  const project = (name: string): ProjectRow => findProject(d.projects, name);

  /**
   * Takes a project's instances off the edge (route `deploymentId` with no targets: it answers 503),
   * lets their requests drain and removes them. With `unlessStopped`, a project with no instance
   * is left as it is.
   */
  const takeOffline = async (p: ProjectRow, deploymentId: string | null, opts: { unlessStopped?: boolean } = {}) => {
    const instances = await d.runtime.list(p);
    if (opts.unlessStopped && instances.length === 0) return;
    const version = d.edge.setRoute({ project: p.name, deployment_id: deploymentId, hostnames: [], targets: [] });
    const targets = instances.map((i) => i.target).filter((t): t is string => !!t);
    await waitDrained(d.edge, version, targets, d.drainTimeoutMs);
    await d.runtime.remove(instances.map((i) => i.id));
  };

  function live(p: ProjectRow, doing: string): DeploymentRow {
    const row = d.lifecycle.liveOf(p.id);
    if (!row) throw new ConflictError(`Cannot ${doing} "${p.name}": nothing is deployed yet`);
    return row;
  }

  const logTo = (id: string) => (line: string) => d.logs.append(id, line);

  /** The pipeline's last step: health-gated swap to a built deployment. */
  const release: Releaser = (row, signal, log, network) =>
    locks.run(row.project, async () => {
      const p = project(row.project);
      const { drained, retiring } = await rollOut(d, {
        project: p,
        deployment: row,
        count: p.instances,
        network,
        signal,
        log,
        onSwitch: () =>
          d.lifecycle.goLive(row, () => {
            if (row.trigger === 'rollback' && row.env_snapshot) d.restoreEnv(p.id, row.env_snapshot);
            if (p.desired_state !== 'running')
              d.projects.update({ ...p, desired_state: 'running', updated_at: nowIso() });
          }),
      });
      // The project is free once traffic has moved: its old instances drain and go in the background.
      const retired = drained.then(() =>
        prune(p).catch((err) => d.log.warn('image pruning failed', { project: p.name, error: String(err) })),
      );
      d.retirements.add(retiring, retired, (err) =>
        d.log.warn('removing the old instances failed', { project: p.name, error: String(err) }),
      );
      // Not on Swarm yet: there a rollback right after a deploy failed now and then in CI while the
      // old service was still being removed, for a reason not found; it keeps the project until then.
      if (d.runtime.heals) await retired.catch(() => {});
    });

  async function prune(p: ProjectRow): Promise<void> {
    const all = d.deployments.list({ project_id: p.id, before: Number.MAX_SAFE_INTEGER, status: null, limit: 100_000 });
    await pruneImages(d.docker, d.agentId, p.name, all, d.releaseRetention, d.log, (tag, kept) =>
      d.runtime.forgetImage(p.name, tag, kept),
    );
  }

  /** Rolls the live release onto `count` fresh instances (restart, scale, start). */
  async function rollLive(p: ProjectRow, count: number, why: string): Promise<void> {
    const row = live(p, why);
    const { drained } = await rollOut(d, {
      project: p,
      deployment: row,
      count,
      signal: new AbortController().signal,
      log: logTo(row.id),
    }).catch((err: unknown) => {
      throw lifecycleError(why, p.name, err);
    });
    await drained;
    d.logs.append(
      row.id,
      `${why[0]!.toUpperCase()}${why.slice(1)}: ${count} instance${count === 1 ? '' : 's'} running`,
    );
  }

  function record(actor: Actor, action: string, p: ProjectRow, changes: Record<string, unknown> = {}): void {
    d.activity.record(actor, { action, targetType: 'project', target: p.name, project: p.name, changes });
  }

  return {
    release,

    /** Stops the live release: the edge answers 503 until start. */
    stop: (actor: Actor, name: string) =>
      locks.run(name, async () => {
        const p = project(name);
        d.db.transaction(() => {
          d.projects.update({ ...p, desired_state: 'stopped', updated_at: nowIso() });
          record(actor, 'project.stop', p);
        })();
        await takeOffline(p, null);
        return project(name);
      }),

    /** Starts the live release again after a stop. */
    start: (actor: Actor, name: string) =>
      locks.run(name, async () => {
        const p = project(name);
        live(p, 'start');
        await rollLive(p, p.instances, 'start');
        d.db.transaction(() => {
          d.projects.update({ ...project(name), desired_state: 'running', updated_at: nowIso() });
          record(actor, 'project.start', p);
        })();
        return project(name);
      }),

    /** Replaces every instance of the live release, one health-gated swap, no downtime. */
    restart: (actor: Actor, name: string) =>
      locks.run(name, async () => {
        const p = project(name);
        if (p.desired_state === 'stopped')
          throw new ConflictError(`Cannot restart "${name}": it is stopped; start it instead`);
        await rollLive(p, p.instances, 'restart');
        record(actor, 'project.restart', p);
        return project(name);
      }),

    /** Sets the instance count and rolls the live release onto that many instances. */
    scale: (actor: Actor, name: string, instances: number) =>
      locks.run(name, async () => {
        const p = project(name);
        checkQuota(name, p, { ...p, instances }, quotaOf(p));
        checkInstancesWithVolumes(name, { ...p, instances });
        if (d.lifecycle.liveOf(p.id) && p.desired_state === 'running')
          await rollLive({ ...p, instances }, instances, 'scale');
        d.db.transaction(() => {
          d.projects.update({ ...project(name), instances, updated_at: nowIso() });
          record(actor, 'project.scale', p, { instances: { from: p.instances, to: instances } });
        })();
        return project(name);
      }),

    /**
     * Runs `fn` with the project's instances gone (the edge answers 503 meanwhile), under the
     * project's lock, then starts the live release again if the project is meant to run. For
     * changes that no instance may see half-done, such as swapping in a restored volume.
     */
    whileStopped: <T>(name: string, fn: (p: ProjectRow) => Promise<T>) =>
      locks.run(name, async () => {
        const p = project(name);
        await takeOffline(p, d.edge.route(name)?.deployment_id ?? null, { unlessStopped: true });
        const result = await fn(p);
        const now = project(name);
        if (now.desired_state === 'running' && d.lifecycle.liveOf(now.id)) await rollLive(now, now.instances, 'start');
        return result;
      }),

    locks,
    /** Old instances draining in the background; a graceful shutdown waits for them. */
    retirements: d.retirements,
  };
}

/** The release service. */
export type ReleaseService = ReturnType<typeof releaseService>;
