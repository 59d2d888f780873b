/**
 * Release images in the cluster registry: the manager builds `slipway/<project>:<number>-<random>`
 * (jobs/pipeline.ts imageTag), pushes it as `<registry>/slipway/<project>:<same tag>` and hands the
 * nodes the pullable `<registry>/slipway/<project>@sha256:…`; a removed release's manifest is
 * deleted again. Keeping the random part of the tag keeps registry tags as unguessable as local ones.
 *
 * Tenants: a project's images live in exactly one repository, `slipway/<project>`, and every name
 * and digest is validated before it reaches the engine or a URL, so no project name, tag or
 * reference can reach another project's repository (or another path of the registry API).
 */
import type Docker from 'dockerode';
import type { RegistryAddress } from './registry-address.ts';
import { type RegistryAuth, registryClient } from './registry-client.ts';

const PROJECT = /^[a-z][a-z0-9-]{0,62}$/;
/** The deployment number, then optionally `-` and the random part. */
const TAG = /^[1-9][0-9]{0,9}(?:-[A-Za-z0-9]{1,64})?$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A release image as the registry holds it. */
export interface PushedRelease {
  /** `<registry>/slipway/<project>@sha256:…`: what a service's tasks pull. */
  reference: string;
  tag: string;
  digest: string;
}

/** What removing a release's image did. `shared`: another tag of the project still needs that manifest. */
export type RemovedRelease = 'deleted' | 'absent' | 'shared';

export class ClusterRegistryError extends Error {}

/** `slipway/<project>`, the project's repository; throws for a name that is not a project name. */
export function releaseRepository(project: string): string {
  if (!PROJECT.test(project)) throw new ClusterRegistryError(`"${project}" is not a project name`);
  return `slipway/${project}`;
}

/** Pushes the local release image `image` (`slipway/<project>:<tag>`) to the cluster registry. */
export async function pushReleaseImage(
  docker: Docker,
  registry: RegistryAddress,
  release: { project: string; image: string },
  auth?: RegistryAuth,
): Promise<PushedRelease> {
  const repository = releaseRepository(release.project);
  const tag = release.image.startsWith(`${repository}:`) ? release.image.slice(repository.length + 1) : '';
  if (!TAG.test(tag)) {
    throw new ClusterRegistryError(`"${release.image}" is not a release image of "${release.project}"`);
  }
  const target = `${registry.host}/${repository}`;
  await docker.getImage(release.image).tag({ repo: target, tag });
  let events: PushEvent[];
  try {
    const stream = (await docker.getImage(`${target}:${tag}`).push({
      tag,
      authconfig: auth ? { ...auth, serveraddress: registry.host } : undefined,
    } as never)) as unknown as NodeJS.ReadableStream;
    events = await new Promise<PushEvent[]>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: PushEvent[]) => (err ? reject(err) : resolve(out))),
    );
  } finally {
    // The alias would keep the image alive after the release's own tag is removed.
    await docker
      .getImage(`${target}:${tag}`)
      .remove({ noprune: true })
      .catch(() => {});
  }
  const failed = events.find((e) => e.error || e.errorDetail);
  if (failed)
    throw new ClusterRegistryError(`Pushing ${target}:${tag} failed: ${failed.error ?? failed.errorDetail?.message}`);
  const digest = events.map((e) => e.aux?.Digest).find((d) => d !== undefined);
  if (!digest || !DIGEST.test(digest)) throw new ClusterRegistryError(`Pushing ${target}:${tag} reported no digest`);
  return { reference: `${target}@${digest}`, tag, digest };
}

/**
 * Deletes the manifest of a removed release (`release.reference` as pushReleaseImage returned it)
 * unless a release the project keeps (`release.kept`: their tags) points to it too, as an
 * identical rebuild does: deleting a manifest deletes every tag on it. Tags of removed releases
 * that shared it go with the last one. Blobs stay until the registry's garbage collection runs.
 */
export async function removeReleaseImage(
  registry: RegistryAddress,
  release: { project: string; reference: string; kept: string[] },
  auth?: RegistryAuth,
): Promise<RemovedRelease> {
  const repository = releaseRepository(release.project);
  const prefix = `${registry.host}/${repository}@`;
  const digest = release.reference.startsWith(prefix) ? release.reference.slice(prefix.length) : '';
  if (!DIGEST.test(digest)) {
    throw new ClusterRegistryError(
      `"${release.reference}" is not an image of "${release.project}" in ${registry.host}`,
    );
  }
  const client = registryClient(registry, auth);
  for (const tag of release.kept) {
    if (!TAG.test(tag)) throw new ClusterRegistryError(`"${tag}" is not a release tag`);
    if ((await client.tagDigest(repository, tag)) === digest) return 'shared';
  }
  return (await client.deleteManifest(repository, digest)) ? 'deleted' : 'absent';
}

/**
 * Deletes from the project's repository every release image that is not kept: `kept` are the local
 * release images (`slipway/<project>:<tag>`, deployments.image_tag) rollbacks still need, as
 * release/images.ts pruneImages keeps them; `[]` when the project is deleted. A manifest a kept
 * tag also points to stays. Returns how many manifests were deleted.
 */
export async function pruneReleaseImages(
  registry: RegistryAddress,
  project: string,
  kept: string[],
  auth?: RegistryAuth,
): Promise<number> {
  const repository = releaseRepository(project);
  const keptTags = new Set(
    kept.map((image) => {
      const tag = image.startsWith(`${repository}:`) ? image.slice(repository.length + 1) : '';
      if (!TAG.test(tag)) throw new ClusterRegistryError(`"${image}" is not a release image of "${project}"`);
      return tag;
    }),
  );
  const client = registryClient(registry, auth);
  const digests = new Map<string, string | null>();
  for (const tag of await client.tags(repository)) digests.set(tag, await client.tagDigest(repository, tag));
  const keptDigests = new Set([...keptTags].map((t) => digests.get(t)));
  const doomed = new Set(
    [...digests].flatMap(([tag, digest]) =>
      !keptTags.has(tag) && digest && DIGEST.test(digest) && !keptDigests.has(digest) ? [digest] : [],
    ),
  );
  let deleted = 0;
  for (const digest of doomed) if (await client.deleteManifest(repository, digest)) deleted++;
  return deleted;
}

interface PushEvent {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Tag?: string; Digest?: string; Size?: number };
}
