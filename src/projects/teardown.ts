import type Docker from 'dockerode';
import type { Actor } from '../activity/service.ts';
import type { EdgeRoutes } from '../release/edge-routes.ts';
import type { ProjectRepo, ProjectRow } from '../db/projects.ts';
import type { Lifecycle } from '../deployments/lifecycle.ts';
import type { SourceStore } from '../deployments/sources.ts';
import type { ProjectLocks } from '../release/locks.ts';
import { ConflictError } from '../errors.ts';
import { sweepLeftovers } from '../build/build-cache.ts';
import type { Logger } from '../log.ts';
import { removeProjectImages } from '../release/images.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { findProject } from './find.ts';
import type { ProjectService } from './service.ts';

/** What deleting a project touches. */
export interface TeardownDeps {
  agentId: string;
  /** The manager's engine: images. */
  docker: Docker;
  runtime: Runtime;
  edge: EdgeRoutes;
  projects: ProjectRepo;
  /** Deletes the row (cascading to deployments, env and logs) and records it. */
  projectService: Pick<ProjectService, 'remove'>;
  lifecycle: Lifecycle;
  sources: SourceStore;
  locks: ProjectLocks;
  /** The project's database, if it has one: deleting the project drops it too. */
  database: { has(projectId: string): boolean; drop(project: string): Promise<void> };
  /** The project's volumes: deleting the project removes them, data and all. */
  volumes: { has(projectId: string): boolean; drop(project: ProjectRow): Promise<void> };
  /** The project's custom domains: deleting the project removes them, their hosts and certificates. */
  domains: { removeProject(actor: Actor, project: string): Promise<void> };
  /** Aborts a deployment the worker is running. */
  cancelRunning(deploymentId: string): boolean;
  log: Logger;
}

/**
 * Deletes a project and everything Slipway made for it: the edge stops routing it and its custom
 * domains (which go with their certificates), running work is aborted, its containers, images,
 * database, volumes and network are removed, its row (and with it its deployments, env and logs) is
 * deleted and recorded, and its stored sources are removed. A project holding data (a database,
 * volumes) is deleted only with `confirm` equal to its name.
 */
export function projectTeardown(d: TeardownDeps) {
  return async (actor: Actor, name: string, confirm?: string): Promise<void> => {
    const p = findProject(d.projects, name);
    const database = d.database.has(p.id);
    const volumes = d.volumes.has(p.id);
    if ((database || volumes) && confirm !== name) {
      const what = database && volumes ? 'a database and volumes' : database ? 'a database' : 'volumes';
      const all = database && volumes ? 'them all' : database ? 'both' : 'them too';
      throw new ConflictError(
        `Cannot delete "${name}": it has ${what}; repeat the project name as ?confirm=${name} to delete ${all}`,
      );
    }
    const running = d.lifecycle.runningOf(p.id);
    if (running) d.cancelRunning(running.id);
    await d.locks.run(name, async () => {
      d.edge.removeRoute(name);
      await d.domains.removeProject(actor, name);
      const instances = await d.runtime.list(p);
      await d.runtime.remove(
        instances.map((i) => i.id),
        5,
      );
      await removeProjectImages(d.docker, d.agentId, name, (tag) => d.runtime.forgetImage(name, tag, []));
      await sweepLeftovers(d.docker, d.agentId, d.log);
      if (d.database.has(p.id)) await d.database.drop(name);
      await d.volumes.drop(p);
      await d.runtime.removeNetwork(name);
      d.projectService.remove(actor, name);
      await d.sources.removeProject(name);
    });
  };
}

/** Deletes a project and everything made for it. */
export type ProjectTeardown = ReturnType<typeof projectTeardown>;
