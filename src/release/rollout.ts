import type Docker from 'dockerode';
import type { Db } from '../db/open.ts';
import type { DeploymentRow } from '../db/deployments.ts';
import type { ProjectRow } from '../db/projects.ts';
import type { EdgeRoutes } from './edge-routes.ts';
import type { Logger } from '../log.ts';
import type { Instance, ListedInstance, ReleaseSpec, Runtime } from '../runtime/runtime.ts';
import { waitApplied, waitDrained } from './drain.ts';
import { asFailure, HealthCheckStopped, StartFailed } from '../deployments/failures.ts';
import { exclusiveVolumes } from '../volumes/spec.ts';
import { engineUnreachable } from '../runtime/docker.ts';
import { relaxedCommits } from '../db/relaxed.ts';
import type { Retirements } from './retirements.ts';

/** How long a swap waits for the edge to confirm it applied the new routes. */
const EDGE_APPLY_TIMEOUT_MS = 5000;

/** What a rollout needs. */
export interface RolloutDeps {
  agentId: string;
  db: Db;
  /** The manager's engine: images. */
  docker: Docker;
  /** Where instances run. */
  runtime: Runtime;
  edge: EdgeRoutes;
  log: Logger;
  drainTimeoutMs: number;
  /** Old instances still draining after an earlier release: no rollout retires them again. */
  retirements: Retirements;
  /** The env an instance of `deployment` runs with (PORT is added on top). */
  envFor(project: ProjectRow, deployment: DeploymentRow): Record<string, string>;
  /** The project's volumes as mounts, created on first use; none when omitted. */
  mountsFor?(project: ProjectRow): Promise<NonNullable<ReleaseSpec['mounts']>>;
}

/** One rollout: `count` new instances of `deployment` replace whatever the project runs now. */
export interface Rollout {
  project: ProjectRow;
  deployment: DeploymentRow;
  count: number;
  /** The project's network, when the caller ensured it already. */
  network?: string;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Records the switch (statuses), in one transaction, once the edge routes to the new instances. */
  onSwitch?: () => void;
}

/**
 * The zero-downtime swap, after kamal-proxy: start the new instances, wait until every one
 * passes its health check, switch the edge to them in one step, then let the old instances
 * finish their in-flight requests (up to the drain timeout) before stopping them. If anything
 * fails before the switch, the new instances are removed and the old ones never notice.
 * A project whose volumes take one writer at a time gets a hand-off instead (see handOff).
 * Resolves once traffic has switched; `drained` settles when the old instances (`retiring`) are gone.
 */
export async function rollOut(d: RolloutDeps, r: Rollout): Promise<RolledOut> {
  const start = await starter(d, r);
  if (exclusiveVolumes(r.project)) return handOff(d, r, start);
  const fresh = await start();
  // Listed while the new instances warm up (nothing else changes the project's containers meanwhile).
  const listing = d.runtime.list(r.project);
  listing.catch(() => {}); // awaited below unless the health gate fails first
  await healthGate(d, r, fresh);
  // Not the new instances, nor any other of their group (a task the runtime restarted meanwhile),
  // nor an earlier release's old instances, which drain on their own.
  const previous = (await listing).filter((i) => !fresh.some((f) => f.group === i.group) && !d.retirements.has(i.id));
  const { targets, version } = await switchTo(d, r, fresh);
  const drained = retire(d, r, version, previous);
  return { targets, drained, retiring: previous.map((i) => i.id) };
}

/** A rollout whose traffic has switched. */
export interface RolledOut {
  targets: string[];
  /** Settles once the old instances have drained and are removed. */
  drained: Promise<void>;
  /** The old instances' ids. */
  retiring: string[];
}

/** What starts the rollout's new instances; if one fails to start, none of them is left. */
async function starter(d: RolloutDeps, r: Rollout): Promise<() => Promise<Instance[]>> {
  const [network, mounts] = await Promise.all([
    r.network ?? d.runtime.ensureNetwork(r.project.name),
    d.mountsFor?.(r.project),
  ]);
  const port = r.project.port ?? r.deployment.exposed_port ?? 8080;
  const spec: ReleaseSpec = {
    agentId: d.agentId,
    project: r.project.name,
    projectId: r.project.id,
    deploymentId: r.deployment.id,
    number: r.deployment.number,
    image: r.deployment.image_id ?? r.deployment.image_tag!,
    imageTag: r.deployment.image_tag,
    network,
    port,
    env: d.envFor(r.project, r.deployment),
    memoryMb: r.project.memory_mb,
    cpus: r.project.cpus,
    mounts: mounts ?? [],
  };
  return async () => {
    r.log(`Starting ${r.count} instance${r.count === 1 ? '' : 's'} of #${r.deployment.number} (port ${port})`);
    try {
      return await d.runtime.start(spec, r.count);
    } catch (err) {
      throw new StartFailed((err as Error).message, engineUnreachable(err));
    }
  };
}

/** Routes the edge to `fresh`, waits until it applied the change, and records the switch. */
async function switchTo(
  d: RolloutDeps,
  r: Rollout,
  fresh: Instance[],
): Promise<{ targets: string[]; version: number }> {
  const targets = fresh.map((i) => i.target);
  // A relaxed commit: the route's record in slipway.db is synced by the commit that records the
  // switch just after (onSwitch), or by the lifecycle operation's own record that follows.
  const version = relaxedCommits(d.db)(() =>
    d.edge.setRoute({ project: r.project.name, deployment_id: r.deployment.id, hostnames: [], targets }),
  );
  // "Live" means visitors reach the new instances: wait for the edge to apply the new table.
  if (!(await waitApplied(d.edge, version, EDGE_APPLY_TIMEOUT_MS))) {
    d.log.warn('the edge did not confirm the new routes in time; is it running?', { project: r.project.name, version });
  }
  try {
    d.db.transaction(() => r.onSwitch?.())();
  } catch (err) {
    d.log.error('recording the switch failed after traffic moved', { project: r.project.name, error: String(err) });
  }
  r.log(`Traffic switched to ${targets.join(', ')}`);
  return { targets, version };
}

/**
 * The swap for volumes that take one writer at a time: the old instances drain and stop (kept,
 * not removed) before the new ones start, so two processes never write the same files; visitors
 * get the edge's 503 meanwhile. If the new instances fail to start or to pass their health check,
 * the old ones are started again and routed to, as if nothing had happened.
 */
async function handOff(d: RolloutDeps, r: Rollout, start: () => Promise<Instance[]>): Promise<RolledOut> {
  const previous = await d.runtime.list(r.project);
  const route = d.edge.route(r.project.name);
  if (previous.length > 0) {
    r.log("Stopping the running instance first: the project's volumes take one writer at a time");
    const version = d.edge.setRoute({
      project: r.project.name,
      deployment_id: route?.deployment_id ?? null,
      hostnames: [],
      targets: [],
    });
    await waitDrained(d.edge, version, targetsOf(previous), d.drainTimeoutMs);
    await d.runtime.stop(previous.map((i) => i.id));
  }
  let fresh: Instance[];
  try {
    fresh = await start();
    await healthGate(d, r, fresh);
  } catch (err) {
    if (previous.length > 0) await revive(d, r, previous, route?.deployment_id ?? null);
    throw err;
  }
  const { targets } = await switchTo(d, r, fresh);
  await d.runtime.remove(
    previous.map((i) => i.id),
    0,
  );
  return { targets, drained: Promise.resolve(), retiring: [] };
}

/** Starts the instances a failed hand-off stopped and, once they answer, routes the edge back to them. */
async function revive(d: RolloutDeps, r: Rollout, stopped: ListedInstance[], deploymentId: string | null) {
  r.log('Starting the previous instance again');
  const back = await d.runtime.resume(
    r.project,
    stopped.map((i) => i.id),
  );
  await Promise.all(
    back.map((i) =>
      i.target
        ? d.runtime
            .waitHealthy(i.id, {
              target: i.target,
              path: r.project.health_check_path,
              timeoutMs: r.project.deploy_timeout * 1000,
              signal: new AbortController().signal,
            })
            .catch((err) =>
              d.log.warn('a revived instance is not healthy', { project: r.project.name, error: String(err) }),
            )
        : null,
    ),
  );
  const version = d.edge.setRoute({
    project: r.project.name,
    deployment_id: deploymentId,
    hostnames: [],
    targets: targetsOf(back),
  });
  await waitApplied(d.edge, version, EDGE_APPLY_TIMEOUT_MS);
}

const targetsOf = (instances: { target: string | null }[]) =>
  instances.map((i) => i.target).filter((t): t is string => t !== null);

/** Waits for every new instance to turn healthy; on the first failure reports it and removes them all. */
async function healthGate(d: RolloutDeps, r: Rollout, fresh: Instance[]): Promise<void> {
  const siblings = new AbortController();
  const signal = AbortSignal.any([r.signal, siblings.signal]);
  const checks = fresh.map((instance) =>
    d.runtime
      .waitHealthy(instance.id, {
        target: instance.target,
        path: r.project.health_check_path,
        timeoutMs: r.project.deploy_timeout * 1000,
        signal,
        known: instance.started,
      })
      .then(
        () => null,
        (err: unknown) => {
          siblings.abort();
          return { instance, failure: asFailure(err) };
        },
      ),
  );
  const failures = (await Promise.all(checks)).filter((f) => f !== null);
  // The instance that failed first says why; its siblings only report that they were stopped.
  const first = failures.find((f) => !(f.failure instanceof HealthCheckStopped)) ?? failures[0];
  if (!first) {
    r.log(`All ${fresh.length} instance${fresh.length === 1 ? '' : 's'} passed GET ${r.project.health_check_path}`);
    return;
  }
  if (!(first.failure instanceof HealthCheckStopped)) {
    const lines = await d.runtime.lastLogLines(first.instance.id);
    if (lines.length > 0) {
      r.log(`Last log lines of ${first.instance.id.slice(0, 12)}:`);
      for (const line of lines) r.log(`  ${line}`);
    }
  }
  await d.runtime.remove(
    fresh.map((i) => i.id),
    0,
  );
  throw first.failure;
}

/** Drains and removes the instances traffic no longer goes to. */
async function retire(
  d: RolloutDeps,
  r: Rollout,
  version: number,
  previous: { id: string; target: string | null }[],
): Promise<void> {
  if (previous.length === 0) return;
  const targets = targetsOf(previous);
  const outcome = await waitDrained(d.edge, version, targets, d.drainTimeoutMs);
  if (outcome === 'timeout')
    d.log.warn('drain timed out; stopping old instances anyway', { project: r.project.name, targets });
  await d.runtime.remove(previous.map((p) => p.id));
}
