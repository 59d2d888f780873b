/**
 * The build cache collector. Every stage of a build carries the project's labels (stage-labels.ts),
 * so the images a build leaves untagged (its earlier stages; a failed build's last good step) are
 * known to be the project's. After a successful build the project's untagged images are removed,
 * but for the stages of that very build: the next build starts from those (and from everything
 * below them, which the engine keeps while an image still stands on it). Without this, every
 * deploy of a multi-stage app would leave its build stage on disk for good.
 *
 * Only untagged images with all of `labels` are touched; one still in use is left (the engine
 * refuses with 409), as is one that is gone already.
 */
import type Docker from 'dockerode';
import type { Logger } from '../log.ts';

/** Removes the project's untagged build images but `keep`; returns how many went. */
export async function collectBuildCache(
  docker: Docker,
  labels: Record<string, string>,
  keep: string[],
  log: Logger,
): Promise<number> {
  const filters = { dangling: ['true'], label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
  const kept = new Set(keep);
  let removed = 0;
  for (const image of await docker.listImages({ filters })) {
    // A release pulled or pushed by digest (Swarm) has no tag either, but a digest: not a leftover.
    if (kept.has(image.Id) || (image.RepoDigests ?? []).some((d) => !d.startsWith('<none>'))) continue;
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
