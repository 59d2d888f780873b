import type Docker from 'dockerode';
import type { DeploymentRow } from '../db/deployments.ts';
import type { Logger } from '../log.ts';
import { labelFilter, labelOf } from '../runtime/labels.ts';

/**
 * The deployments whose images rollbacks still need (the newest `keep` that went live, and
 * anything not yet finished) and their image tags; the cluster registry keeps the same ones.
 */
export function keptReleases(
  deployments: DeploymentRow[],
  keep: number,
): { keepIds: Set<string>; keepTags: Set<string> } {
  const released = deployments
    .filter((d) => d.status === 'live' || d.status === 'replaced')
    .sort((a, b) => b.number - a.number);
  const keepIds = new Set([
    ...released.slice(0, keep).map((d) => d.id),
    ...deployments.filter((d) => ['queued', 'building', 'deploying'].includes(d.status)).map((d) => d.id),
  ]);
  // A rollback or a retry reuses its original's image: keep the image of every kept deployment's origin too.
  const keepTags = new Set(
    deployments
      .filter((d) => keepIds.has(d.id))
      .map((d) => d.image_tag)
      .filter((t): t is string => Boolean(t)),
  );
  return { keepIds, keepTags };
}

/**
 * Removes the project's Slipway-built images that rollbacks no longer need: kept are the images
 * of the newest `keep` releases that went live, and of anything not yet finished. Only images
 * carrying Slipway's managed, agent and project labels are ever considered. Deployments built
 * from the same source share one image under several tags: each unneeded tag is removed on its
 * own, and the engine deletes the image with its last tag. Returns how many tags (or untagged
 * images) were removed.
 */
export async function pruneImages(
  docker: Docker,
  agentId: string,
  project: string,
  deployments: DeploymentRow[],
  keep: number,
  log: Logger,
  /** Told each removed tag and the tags kept (the runtime drops a cluster registry's copy). */
  forget: (tag: string, kept: string[]) => Promise<void> = async () => {},
): Promise<number> {
  const { keepIds, keepTags } = keptReleases(deployments, keep);
  // A build that has just tagged its image may not have recorded the tag yet (this runs while the
  // project's next deployment builds): its number's tags stay too.
  const building = deployments
    .filter((d) => keepIds.has(d.id) && !d.image_tag)
    .map((d) => `slipway/${project}:${d.number}-`);
  const kept = (tag: string) => keepTags.has(tag) || building.some((prefix) => tag.startsWith(prefix));
  const images = await docker.listImages({
    filters: { label: labelFilter({ agent: agentId, project }) },
  });
  let removed = 0;
  for (const image of images) {
    // Images built before release images were labelled per project carry their deployment's id.
    const deployment = labelOf(image.Labels, 'deployment');
    if (keepIds.has(deployment ?? '')) continue;
    const tags = (image.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
    // Untagged images with no digest either are the project's build cache (build-cache.ts), unless
    // they are such an old release; a release known by its digest alone (Swarm) is pruned as before.
    const digests = (image.RepoDigests ?? []).filter((d) => !d.startsWith('<none>'));
    if (tags.length === 0 && digests.length === 0 && deployment === undefined) continue;
    const unneeded = tags.filter((t) => !kept(t));
    if (tags.length > 0 && unneeded.length === 0) continue;
    for (const ref of tags.length === 0 ? [image.Id] : unneeded) {
      try {
        await docker.getImage(ref).remove({ force: false });
        removed++;
      } catch (err) {
        // In use by a container, or shared with a kept image: leave it.
        log.debug('image kept', { image: ref, reason: (err as Error).message });
      }
    }
    // Rollbacks no longer need it, even where the local copy lingers (an old task's container
    // still holds it on Swarm): the cluster registry's copy goes now.
    for (const tag of unneeded) {
      await forget(tag, [...keepTags]).catch((err: unknown) =>
        log.warn('release image kept in the cluster registry', { tag, error: String(err) }),
      );
    }
  }
  return removed;
}
