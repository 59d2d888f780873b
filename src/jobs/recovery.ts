import type Docker from 'dockerode';
import { ACTIVE_STATUSES, type DeploymentRepo } from '../db/deployments.ts';
import type { DeploymentLogs } from '../deployments/logs.ts';
import type { Logger } from '../log.ts';
import { nowIso } from '../ids.ts';

/** The reason recorded on deployments a crash or a kill left mid-flight. */
export const INTERRUPTED = 'interrupted: Slipway stopped while the deployment ran';

/**
 * Run once at start, before the worker: nothing may stay `building` or `deploying` across a
 * restart. Such deployments end `failed` (interrupted), and whatever Docker objects carry
 * their label (a half-built image, build or app containers) are removed.
 */
export async function recoverInterrupted(
  deployments: DeploymentRepo,
  logs: DeploymentLogs,
  docker: Docker,
  log: Logger,
): Promise<string[]> {
  const stuck = deployments.withStatus(ACTIVE_STATUSES);
  for (const row of stuck) {
    if (
      deployments.update(
        row.id,
        { status: 'failed', failure_reason: INTERRUPTED, finished_at: nowIso() },
        ACTIVE_STATUSES,
      )
    ) {
      logs.append(row.id, `Deployment failed: ${INTERRUPTED}`);
      log.warn('deployment interrupted by a restart', { deployment: row.id, project: row.project, was: row.status });
    }
    await removeDeploymentObjects(docker, row.id).catch((err) =>
      log.warn('cannot clean up an interrupted deployment', { deployment: row.id, error: String(err) }),
    );
  }
  return stuck.map((r) => r.id);
}

/** Force-removes the containers and images labelled with a deployment's id. */
export async function removeDeploymentObjects(docker: Docker, deploymentId: string): Promise<void> {
  const filters = { label: [`slipway.managed=true`, `slipway.deployment=${deploymentId}`] };
  for (const c of await docker.listContainers({ all: true, filters })) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(ignoreMissing);
  }
  for (const image of await docker.listImages({ filters })) {
    await docker.getImage(image.Id).remove({ force: true }).catch(ignoreMissing);
  }
}

function ignoreMissing(err: { statusCode?: number }): void {
  if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
}
