import type { DeploymentRepo, DeploymentRow } from '../db/deployments.ts';
import type { EnvService } from '../env/service.ts';
import { diffEnv, type EnvChange } from '../env/diff.ts';

/**
 * The env a release runs with. A deployment is pinned to the env it first started with: its
 * snapshot is sealed then and reused by every later start (restart, scale, the reconciler), so a
 * later env change reaches visitors only through a new release. A rollback brings its release's
 * env back as the project's env.
 */
export function releaseEnv(
  env: EnvService,
  deployments: DeploymentRepo,
  /**
   * Runs the snapshot's commit, made on the deploy path just before the first instance is created:
   * as a relaxed one (db/relaxed.ts) it is synced by the deployment's move to live, or its end.
   */
  commit: (write: () => void) => void = (write) => write(),
) {
  return {
    /** The env of `deployment`'s instances (PORT is added by the runtime). */
    envFor(project: { id: string }, deployment: Pick<DeploymentRow, 'id' | 'env_snapshot'>): Record<string, string> {
      if (deployment.env_snapshot) return env.openSnapshot(project.id, deployment.env_snapshot);
      const values = env.values(project.id);
      deployment.env_snapshot = env.sealSnapshot(project.id, values);
      const sealed = deployment.env_snapshot;
      commit(() => deployments.update(deployment.id, { env_snapshot: sealed }));
      return values;
    },

    /** What `restore` would change in the project's env now, by key name. */
    changesOfRestore(projectId: string, sealedSnapshot: string): EnvChange {
      return diffEnv(env.values(projectId), env.openSnapshot(projectId, sealedSnapshot));
    },

    /** Makes a rolled-back-to release's env the project's env again. */
    restore(projectId: string, sealedSnapshot: string): void {
      env.restore(projectId, env.openSnapshot(projectId, sealedSnapshot));
    },
  };
}

/** A project's release env. */
export type ReleaseEnv = ReturnType<typeof releaseEnv>;
