import type Docker from 'dockerode';
import type { DeploymentRow } from '../db/deployments.ts';
import type { Logger } from '../log.ts';
import { labelFilter, labelOf } from '../runtime/labels.ts';
import { hasDigest } from '../build/build-cache.ts';

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
 * of the newest `keep` releases that went live, and of anything not yet finished. Only this
 * agent's images are ever considered, and of those only the project's: its release tags
 * (`slipway/<project>:…`) and registry digests, or the project's label (images built before
 * release images were labelled per agent, and a project's own Dockerfile's). Deployments built
 * from the same source, and projects building the same content, share one image under several
 * tags: each unneeded tag of the project is removed on its own, and the engine deletes the image
 * with its last tag, so another project's release is never touched. Returns how many tags (or
 * untagged images) were removed.
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
  let removed = 0;
  for (const image of await agentImages(docker, agentId)) {
    const refs = unneededRefs(image, project, kept, keepIds);
    for (const ref of refs) {
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
    for (const tag of refs.filter((r) => r.startsWith(`slipway/${project}:`))) {
      await forget(tag, [...keepTags]).catch((err: unknown) =>
        log.warn('release image kept in the cluster registry', { tag, error: String(err) }),
      );
    }
  }
  return removed;
}

/** What to remove of `image` for `project`: unneeded tags, else a release known only by digest. */
function unneededRefs(
  image: Docker.ImageInfo,
  project: string,
  kept: (tag: string) => boolean,
  keepIds: Set<string>,
): string[] {
  const labelled = labelOf(image.Labels, 'project');
  if (labelled !== undefined && labelled !== project) return [];
  // Images built before release images were labelled per project carry their deployment's id.
  const deployment = labelOf(image.Labels, 'deployment');
  if (keepIds.has(deployment ?? '')) return [];
  const { tags, digests } = projectRefs(image, project);
  if (tags.length > 0) return tags.filter((t) => !kept(t));
  // Untagged images with no digest are the project's build cache (build-cache.ts), unless they
  // are such an old release; a release known by its digest alone (Swarm) is pruned as before.
  if (labelled === undefined) return digests;
  return hasDigest(image) || deployment !== undefined ? [image.Id] : [];
}

/**
 * Removes every image of the project: its tags and registry digests are removed (forced, as its
 * containers are gone; an image other projects tag too only loses the project's names), images
 * labelled with the project by id; `forget` is told each tag. Returns how many went.
 */
export async function removeProjectImages(
  docker: Docker,
  agentId: string,
  project: string,
  forget: (tag: string) => Promise<void>,
): Promise<number> {
  let removed = 0;
  for (const image of await agentImages(docker, agentId)) {
    const labelled = labelOf(image.Labels, 'project');
    if (labelled !== undefined && labelled !== project) continue;
    const { tags, digests } = projectRefs(image, project);
    const refs = labelled === project ? [image.Id] : [...tags, ...digests];
    for (const ref of refs) {
      await docker
        .getImage(ref)
        .remove({ force: true })
        .then(() => removed++)
        .catch(() => {});
    }
    for (const tag of tags) await forget(tag);
  }
  return removed;
}

/** The agent's images (intermediate ones left out), newest first: a child goes before its parent. */
async function agentImages(docker: Docker, agentId: string): Promise<Docker.ImageInfo[]> {
  const images = await docker.listImages({ filters: { label: labelFilter({ agent: agentId }) } });
  return images.sort((a, b) => b.Created - a.Created);
}

/** The names of `image` that are `project`'s: its release tags, and digests of its repository in a registry. */
export function projectRefs(image: Docker.ImageInfo, project: string): { tags: string[]; digests: string[] } {
  const repository = `slipway/${project}`;
  const tags = (image.RepoTags ?? []).filter((t) => t.startsWith(`${repository}:`));
  const digests = (image.RepoDigests ?? []).filter((d) => {
    const name = d.slice(0, d.indexOf('@'));
    return name === repository || name.endsWith(`/${repository}`);
  });
  return { tags, digests };
}
