import type { ProjectRow } from '../db/projects.ts';
import type { DeploymentRow } from '../db/deployments.ts';
import type { ListedInstance } from '../runtime/runtime.ts';
import { rollOut } from './rollout.ts';
import type { ReleaseDeps } from './service.ts';
import type { ProjectLocks } from './locks.ts';

/** How old an unrecorded app container must be before the reconciler removes it. */
const UNRECORDED_GRACE_SECONDS = 60;

/**
 * Brings Docker back in line with the database, at start and then periodically: the edge gets
 * the live instances' current addresses (a restarted container may have a new host port),
 * missing or dead instances of a live release are replaced through a health-gated rollout, and
 * app containers that belong to nothing live or in progress, or that Slipway never recorded, are
 * removed. Which container serves what is read from the instances table, never from labels.
 */
export function reconciler(d: ReleaseDeps, locks: ProjectLocks) {
  async function reconcileProject(
    p: ProjectRow,
    liveRow: DeploymentRow | undefined,
    instances: ListedInstance[],
  ): Promise<void> {
    if (d.lifecycle.runningOf(p.id)) return; // a deployment in flight owns this project's containers for now
    const current = instances.filter((i) => i.deploymentId === liveRow?.id);
    // An earlier release's old instances drain on their own (retirements.ts).
    const strays = instances.filter(
      (i) => (i.deploymentId !== liveRow?.id || p.desired_state === 'stopped') && !d.retirements.has(i.id),
    );
    if (strays.length > 0)
      await d.runtime.remove(
        strays.map((i) => i.id),
        5,
      );
    if (!liveRow || p.desired_state === 'stopped') {
      if (d.edge.route(p.name)?.targets !== '[]')
        d.edge.setRoute({ project: p.name, deployment_id: liveRow?.id ?? null, hostnames: [], targets: [] });
      return;
    }
    const running = current.filter((i) => i.state === 'running' && i.target);
    // A runtime that heals replaces dead instances itself; a release is replaced only when it is gone.
    if (d.runtime.heals ? current.length === 0 : running.length < p.instances) {
      d.logs.append(liveRow.id, `Reconciler: ${running.length} of ${p.instances} instances running; replacing them`);
      const { drained } = await rollOut(d, {
        project: p,
        deployment: liveRow,
        count: p.instances,
        signal: new AbortController().signal,
        log: (l) => d.logs.append(liveRow.id, l),
      });
      await drained;
      return;
    }
    const targets = running.map((i) => i.target!).sort();
    const route = d.edge.route(p.name);
    if (!route || JSON.stringify([...JSON.parse(route.targets)].sort()) !== JSON.stringify(targets)) {
      d.edge.setRoute({ project: p.name, deployment_id: liveRow.id, hostnames: [], targets });
    }
  }

  return {
    /** One pass over every project; errors of one project do not stop the others. */
    async run({ unrecordedGraceSeconds = UNRECORDED_GRACE_SECONDS } = {}): Promise<void> {
      for (const { name } of d.projects.all()) {
        // Read the state under the project's lock: a release that held it has just changed it.
        await locks
          .run(name, async () => {
            const p = d.projects.findByName(name);
            if (!p) return;
            const live = d.lifecycle.liveOf(p.id);
            await reconcileProject(p, live, await d.runtime.list(p));
          })
          .catch((err) => d.log.warn('reconcile failed', { project: name, error: String(err) }));
      }
      // App-labelled containers Slipway did not record (a crash between create and record, or
      // someone else's with our labels). Young ones may be a rollout's, about to be recorded.
      await d.runtime.removeUnrecorded(unrecordedGraceSeconds);
    },
  };
}
