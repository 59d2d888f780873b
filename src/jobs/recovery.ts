import type Docker from 'dockerode';
import type { Lifecycle } from '../deployments/lifecycle.ts';
import type { Logger } from '../log.ts';
import { labelFilter } from '../runtime/labels.ts';

/**
 * Run once at start, before the worker: nothing may stay `building` or `deploying` across a
 * restart. Such deployments end `failed` (interrupted), and whatever Docker objects carry
 * their label (a half-built image, build or app containers) are removed.
 */
export async function recoverInterrupted(lifecycle: Lifecycle, docker: Docker, log: Logger): Promise<string[]> {
  const stuck = lifecycle.interruptAll();
  for (const row of stuck) {
    await removeDeploymentObjects(docker, row.id).catch((err) =>
      log.warn('cannot clean up an interrupted deployment', { deployment: row.id, error: String(err) }),
    );
  }
  return stuck.map((r) => r.id);
}

/** Force-removes the containers and images labelled with a deployment's id. */
export async function removeDeploymentObjects(docker: Docker, deploymentId: string): Promise<void> {
  const filters = { label: labelFilter({ deployment: deploymentId }) };
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
