import type Docker from 'dockerode';
import type { DeploymentRow } from '../db/deployments.ts';
import type { Lifecycle } from '../deployments/lifecycle.ts';
import type { Logger } from '../log.ts';
import { labelFilter } from '../runtime/labels.ts';
import { sweepLeftovers } from '../build/build-cache.ts';

/**
 * Run once at start, before the worker: nothing may stay `building` or `deploying` across a
 * restart. Such deployments end `failed` (interrupted), and whatever Docker objects carry
 * their label (build or app containers) are removed, with the tag of an image built for them.
 * An image whose build finished just before the stop, untagged in the record, is left to the
 * project's next image pruning; what an interrupted build left untagged with only the agent's
 * labels (a generated Dockerfile's last stage) is removed now, as no build runs yet
 * (build/build-cache.ts).
 */
export async function recoverInterrupted(
  lifecycle: Lifecycle,
  docker: Docker,
  log: Logger,
  agentId: string,
): Promise<string[]> {
  const stuck = lifecycle.interruptAll();
  for (const row of stuck) {
    await removeDeploymentObjects(docker, row.id, ownImageTag(row)).catch((err) =>
      log.warn('cannot clean up an interrupted deployment', { deployment: row.id, error: String(err) }),
    );
  }
  if (stuck.length > 0)
    await sweepLeftovers(docker, agentId, log).catch((err) =>
      log.warn('cannot remove the leftovers of interrupted builds', { error: String(err) }),
    );
  return stuck.map((r) => r.id);
}

/**
 * Force-removes the containers and images labelled with a deployment's id (only images built before
 * release images were labelled per project carry it, each its own), then removes its image's tag
 * (not forced: another deployment or project built from the same source may share the image).
 */
export async function removeDeploymentObjects(
  docker: Docker,
  deploymentId: string,
  imageTag: string | null = null,
): Promise<void> {
  const filters = { label: labelFilter({ deployment: deploymentId }) };
  for (const c of await docker.listContainers({ all: true, filters })) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(ignoreMissing);
  }
  for (const image of await docker.listImages({ filters })) {
    await docker.getImage(image.Id).remove({ force: true }).catch(ignoreMissing);
  }
  if (imageTag) await docker.getImage(imageTag).remove({ force: false }).catch(ignoreMissing);
}

/**
 * The tag of the image built for `row` itself: `slipway/<project>:<number>-<random>` with its own
 * number. A rollback records the image of the release it returns to, which is not its to remove.
 */
function ownImageTag(row: DeploymentRow): string | null {
  return row.image_tag?.startsWith(`slipway/${row.project}:${row.number}-`) ? row.image_tag : null;
}

function ignoreMissing(err: { statusCode?: number }): void {
  if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
}
