/**
 * The build cache collector. Every stage of a build but a generated Dockerfile's last carries the
 * project's labels (stage-labels.ts), so the images a build leaves untagged in them (its earlier
 * stages; a failed build's last good step) are known to be the project's. After a successful build
 * the project's untagged images are removed, but for the stages of that very build: the next build
 * starts from those (and from everything below them, which the engine keeps while an image still
 * stands on it). Without this, every deploy of a multi-stage app would leave its build stage on
 * disk for good.
 *
 * A generated Dockerfile's last stage carries only the agent's labels, the same for every project
 * (runtime/labels.ts): what a failed build leaves there names no project, and is no build's cache
 * (build-gate.ts). Those leftovers are removed whenever no build of the agent runs, whichever
 * project's collection finds them.
 *
 * Only untagged images of this agent are touched, never one carrying another project's label; one
 * still in use or with an image on top is left (the engine refuses with 409), as is one that is
 * gone already.
 */
import type Docker from 'dockerode';
import type { Logger } from '../log.ts';
import { labelFilter, labelOf } from '../runtime/labels.ts';
import { buildGate } from './build-gate.ts';

/** Whose build cache: an agent's project. */
export interface CacheScope {
  agentId: string;
  project: string;
}

/** Removes the project's untagged build images but `keep`, and the agent's build leftovers; returns how many went. */
export async function collectBuildCache(
  docker: Docker,
  scope: CacheScope,
  keep: string[],
  log: Logger,
): Promise<number> {
  const kept = new Set(keep);
  const untagged = (await untaggedImages(docker, scope.agentId)).filter((i) => !kept.has(i.Id));
  const own = untagged.filter((i) => labelOf(i.Labels, 'project') === scope.project);
  const leftovers = untagged.filter(isLeftover);
  const swept = leftovers.length === 0 ? 0 : await buildGate.whenIdle(() => removeImages(docker, leftovers, log));
  return (await removeImages(docker, own, log)) + (swept ?? 0);
}

/** Removes the agent's build leftovers that name no project if no build runs now; returns how many went. */
export async function sweepLeftovers(docker: Docker, agentId: string, log: Logger): Promise<number> {
  const swept = await buildGate.whenIdle(async () =>
    removeImages(docker, (await untaggedImages(docker, agentId)).filter(isLeftover), log),
  );
  return swept ?? 0;
}

/** The agent's untagged images: `docker images --filter dangling=true`, no release among them. */
export async function untaggedImages(docker: Docker, agentId: string): Promise<Docker.ImageInfo[]> {
  const filters = { dangling: ['true'], label: labelFilter({ agent: agentId }) };
  // A release pulled or pushed by digest (Swarm) has no tag either, but a digest: not a leftover.
  return (await docker.listImages({ filters })).filter((image) => !hasDigest(image));
}

/** Whether the engine knows `image` by a registry digest (a release pulled or pushed by digest). */
export const hasDigest = (image: Docker.ImageInfo): boolean =>
  (image.RepoDigests ?? []).some((d) => !d.startsWith('<none>'));

const isLeftover = (image: Docker.ImageInfo) => labelOf(image.Labels, 'project') === undefined;

async function removeImages(docker: Docker, images: Docker.ImageInfo[], log: Logger): Promise<number> {
  let removed = 0;
  for (const image of images) {
    try {
      await docker.getImage(image.Id).remove({ force: false });
      removed++;
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 404 && status !== 409)
        log.warn('cannot remove an old build image', { image: image.Id, error: String(err) });
    }
  }
  return removed;
}
