import type Docker from 'dockerode';
import type { Actor } from '../activity/service.ts';
import type { EdgeRoutes } from '../release/edge-routes.ts';
import type { InstanceRepo } from '../db/instances.ts';
import type { ProjectRepo } from '../db/projects.ts';
import type { Lifecycle } from '../deployments/lifecycle.ts';
import type { SourceStore } from '../deployments/sources.ts';
import type { ProjectLocks } from '../release/locks.ts';
import { ConflictError } from '../errors.ts';
import { listInstances, removeInstances } from '../runtime/instances.ts';
import { labelFilter } from '../runtime/labels.ts';
import { networkName } from '../runtime/network.ts';
import { findProject } from './find.ts';
import type { ProjectService } from './service.ts';

/** What deleting a project touches. */
export interface TeardownDeps {
  agentId: string;
  docker: Docker;
  instances: InstanceRepo;
  edge: EdgeRoutes;
  projects: ProjectRepo;
  /** Deletes the row (cascading to deployments, env and logs) and records it. */
  projectService: Pick<ProjectService, 'remove'>;
  lifecycle: Lifecycle;
  sources: SourceStore;
  locks: ProjectLocks;
  /** The project's database, if it has one: deleting the project drops it too. */
  database: { has(projectId: string): boolean; drop(project: string): Promise<void> };
  /** The project's custom domains: deleting the project removes them, their hosts and certificates. */
  domains: { removeProject(actor: Actor, project: string): Promise<void> };
  /** Aborts a deployment the worker is running. */
  cancelRunning(deploymentId: string): boolean;
}

/**
 * Deletes a project and everything Slipway made for it: the edge stops routing it and its custom
 * domains (which go with their certificates), running work
 * is aborted, its containers, images, database and network are removed, its row (and with it its
 * deployments, env and logs) is deleted and recorded, and its stored sources are removed.
 */
export function projectTeardown(d: TeardownDeps) {
  return async (actor: Actor, name: string, confirm?: string): Promise<void> => {
    const p = findProject(d.projects, name);
    if (d.database.has(p.id) && confirm !== name) {
      throw new ConflictError(
        `Cannot delete "${name}": it has a database; repeat the project name as ?confirm=${name} to delete both`,
      );
    }
    const running = d.lifecycle.runningOf(p.id);
    if (running) d.cancelRunning(running.id);
    await d.locks.run(name, async () => {
      d.edge.removeRoute(name);
      await d.domains.removeProject(actor, name);
      const instances = await listInstances(d.docker, d.instances, p);
      await removeInstances(
        d.docker,
        d.instances,
        instances.map((i) => i.containerId),
        5,
      );
      const images = await d.docker.listImages({
        filters: { label: labelFilter({ agent: d.agentId, project: name }) },
      });
      for (const image of images) {
        await d.docker
          .getImage(image.Id)
          .remove({ force: true })
          .catch(() => {});
      }
      if (d.database.has(p.id)) await d.database.drop(name);
      await d.docker
        .getNetwork(networkName(name))
        .remove()
        .catch(() => {});
      d.projectService.remove(actor, name);
      await d.sources.removeProject(name);
    });
  };
}

/** Deletes a project and everything made for it. */
export type ProjectTeardown = ReturnType<typeof projectTeardown>;
