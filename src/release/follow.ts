import type { ProjectRepo, ProjectRow } from '../db/projects.ts';
import type { Lifecycle } from '../deployments/lifecycle.ts';
import type { Logger } from '../log.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { EdgeRoutes } from './edge-routes.ts';
import type { ProjectLocks } from './locks.ts';

/** How long a new target gets to answer its health check before the follower tries again later. */
const PROBE_TIMEOUT_MS = 2000;

/** What the follower needs. */
export interface FollowDeps {
  runtime: Runtime;
  projects: ProjectRepo;
  lifecycle: Lifecycle;
  edge: EdgeRoutes;
  locks: ProjectLocks;
  log: Logger;
}

/**
 * Keeps each live release's edge route on the addresses its instances have now, for runtimes that
 * move instances by themselves (a task rescheduled on another node after a failure gets a new
 * `node:port`). A target that disappeared leaves the route at once; a new one joins only after it
 * answers the project's health check. Projects whose lock is held are skipped: a release or a
 * lifecycle operation in progress routes them itself.
 */
export function routeFollower(d: FollowDeps) {
  async function follow(p: ProjectRow): Promise<void> {
    const live = d.lifecycle.liveOf(p.id);
    const route = d.edge.route(p.name);
    if (!live || p.desired_state !== 'running' || route?.deployment_id !== live.id) return;
    const current = JSON.parse(route.targets) as string[];
    const now = (await d.runtime.list(p))
      .filter((i) => i.deploymentId === live.id && i.state === 'running' && i.target)
      .map((i) => i.target!);
    const kept = current.filter((t) => now.includes(t));
    const fresh = now.filter((t) => !current.includes(t));
    const healthy = (await Promise.all(fresh.map((t) => answers(t, p.health_check_path)))).flatMap((ok, i) =>
      ok ? [fresh[i]!] : [],
    );
    if (kept.length === current.length && healthy.length === 0) return;
    const targets = [...kept, ...healthy];
    d.edge.setRoute({ project: p.name, deployment_id: live.id, hostnames: [], targets });
    d.log.info('the edge follows moved instances', {
      project: p.name,
      removed: current.length - kept.length,
      added: healthy,
    });
  }

  /** One pass over every project; a project whose lock is held is left for the next pass. */
  async function pass(): Promise<void> {
    for (const p of d.projects.all()) {
      if (d.locks.held(p.name)) continue;
      await d.locks
        .run(p.name, async () => {
          const fresh = d.projects.findByName(p.name);
          if (fresh) await follow(fresh);
        })
        .catch((err) => d.log.warn('following instances failed', { project: p.name, error: String(err) }));
    }
  }

  return {
    pass,

    /** Runs a pass every `followIntervalMs` of the runtime, none when it never moves instances; returns the stop. */
    start(): () => void {
      const every = d.runtime.followIntervalMs;
      if (every === null) return () => {};
      let running = false;
      const timer = setInterval(async () => {
        if (running) return;
        running = true;
        await pass();
        running = false;
      }, every);
      return () => clearInterval(timer);
    },
  };
}

/** The route follower. */
export type RouteFollower = ReturnType<typeof routeFollower>;

/** Whether `GET http://<target><path>` answers 2xx or 3xx in time. */
async function answers(target: string, path: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${target}${path}`, {
      redirect: 'manual',
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await res.body?.cancel();
    return res.status >= 200 && res.status < 400;
  } catch {
    return false;
  }
}
