import type Docker from 'dockerode';
import type { ProjectRepo, ProjectRow } from '../db/projects.ts';
import type { Lifecycle } from '../deployments/lifecycle.ts';
import type { EnvService } from '../env/service.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { followLogs, recentLogs, type LogEntry, type LogSource } from './container-logs.ts';
import { containerStats, type ContainerStats } from './container-stats.ts';
import { findProject } from '../projects/find.ts';

/** How often a follower looks for instances a redeploy started. */
const RESCAN_MS = 1000;

/** Runtime logs and resource use of a project's live instances. */
export function observeService(d: {
  docker: Docker;
  runtime: Runtime;
  projects: ProjectRepo;
  lifecycle: Lifecycle;
  env: EnvService;
}) {
  const project = (name: string): ProjectRow => findProject(d.projects, name);

  /** The running instances of the live release that run on the engine Slipway talks to. */
  async function liveSources(p: ProjectRow): Promise<LogSource[]> {
    const live = d.lifecycle.liveOf(p.id);
    if (!live) return [];
    const instances = await d.runtime.list(p);
    // Only instances whose container runs on the engine Slipway talks to can be read from it.
    return instances.flatMap((i) =>
      i.deploymentId === live.id && i.state === 'running' && i.containerId
        ? [{ containerId: i.containerId, instance: i.instance }]
        : [],
    );
  }

  const masked = (p: ProjectRow) => {
    const masker = d.env.masker(p.id);
    return (e: LogEntry): LogEntry => ({ ...e, line: masker.mask(e.line) });
  };

  return {
    /** Recent lines of every live instance, oldest first, secrets masked. */
    async logs(name: string, opts: { tail: number; since?: number }): Promise<LogEntry[]> {
      const p = project(name);
      return (await recentLogs(d.docker, await liveSources(p), opts)).map(masked(p));
    },

    /**
     * Sends the recent lines, then every new line of the live instances, following a redeploy to
     * the new instances, until `signal` aborts.
     */
    async follow(
      name: string,
      opts: { tail: number; since?: number },
      onEntry: (e: LogEntry) => void,
      signal: AbortSignal,
    ): Promise<void> {
      const p = project(name);
      const mask = masked(p);
      const since = Math.floor(Date.now() / 1000);
      const lastSent = new Map<string, string>();
      for (const e of await recentLogs(d.docker, await liveSources(p), opts)) {
        lastSent.set(e.instance, e.time);
        onEntry(mask(e));
      }
      const followed = new Set<string>();
      let first = true;
      while (!signal.aborted) {
        for (const source of await liveSources(p).catch(() => [])) {
          if (followed.has(source.containerId)) continue;
          followed.add(source.containerId);
          // Instances of the first scan continue after the tail (Docker's `since` is in whole
          // seconds, so lines already sent are skipped by time); later ones are read from their start.
          const after = lastSent.get(source.instance) ?? '';
          const send = (e: LogEntry) => (e.time > after ? onEntry(mask(e)) : undefined);
          void followLogs(d.docker, source, first ? since : 0, send, signal).catch(() => {});
        }
        first = false;
        await Bun.sleep(RESCAN_MS);
      }
    },

    /** CPU, memory, network and block I/O of each live instance. */
    async metrics(name: string): Promise<ContainerStats[]> {
      const p = project(name);
      return Promise.all((await liveSources(p)).map((s) => containerStats(d.docker, s.containerId, s.instance)));
    },

    /** Stats of every live instance of every project, for /metrics. */
    async allMetrics(): Promise<{ project: string; stats: ContainerStats }[]> {
      // Docker takes about a second per stats sample: ask for every container at once.
      const sources = (
        await Promise.all(
          d.projects.all().map(async (p) => (await liveSources(p)).map((s) => ({ project: p.name, s }))),
        )
      ).flat();
      const samples = await Promise.all(
        sources.map(({ project, s }) =>
          containerStats(d.docker, s.containerId, s.instance).then(
            (stats) => ({ project, stats }),
            () => null,
          ),
        ),
      );
      return samples.filter((x): x is { project: string; stats: ContainerStats } => x !== null);
    },
  };
}

/** The observe service. */
export type ObserveService = ReturnType<typeof observeService>;
