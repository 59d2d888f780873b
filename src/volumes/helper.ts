/**
 * Reading and filling a volume without running anything: Docker's archive API works on a created,
 * never-started container, mounting its volumes for the copy. The container comes from a one-file
 * image that Slipway imports itself (no registry, no executable inside), so nothing from the
 * project's image or the volume's content is ever run.
 */
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { tarStream } from '../lazy-libraries.ts';
import { helperLabels, LABEL } from '../runtime/labels.ts';
import { randomToken } from '../ids.ts';

/** The helper image's reference; bump the tag when its content changes. */
export const HELPER_IMAGE = 'slipway/volume-helper:1';

/** Where a helper container mounts the volume. */
export const HELPER_MOUNT = '/volume';

let imported: Promise<void> | null = null;

/** Imports the helper image unless the engine has it. */
export function ensureHelperImage(docker: Docker): Promise<void> {
  imported ??= importOnce(docker).catch((err) => {
    imported = null;
    throw err;
  });
  return imported;
}

async function importOnce(docker: Docker): Promise<void> {
  const present = await docker
    .getImage(HELPER_IMAGE)
    .inspect()
    .then(
      () => true,
      () => false,
    );
  if (present) return;
  const rootfs = tarStream().pack();
  rootfs.entry({ name: 'README', mode: 0o444 }, 'Slipway volume helper: created to copy a volume, never started.\n');
  rootfs.finalize();
  const [repo, tag] = HELPER_IMAGE.split(':') as [string, string];
  const progress = await docker.importImage(
    rootfs as unknown as Readable,
    {
      repo,
      tag,
      changes: [`LABEL ${LABEL.managed}=true ${LABEL.role}=helper`, 'CMD ["/none"]'],
    } as never,
  );
  for await (const _ of progress as unknown as AsyncIterable<unknown>);
}

/**
 * Runs `fn` with a created (never started) container that mounts `dockerVolume` at HELPER_MOUNT,
 * without network; the container is removed when `fn` settles.
 */
export async function withHelper<T>(
  docker: Docker,
  who: { agentId: string; project: string },
  dockerVolume: string,
  fn: (container: Docker.Container) => Promise<T>,
): Promise<T> {
  const container = await createHelper(docker, who, dockerVolume);
  try {
    return await fn(container);
  } finally {
    await container.remove({ force: true }).catch(() => {});
  }
}

/** Creates the helper container (importing the image again if someone removed it); the caller removes it. */
export async function createHelper(
  docker: Docker,
  who: { agentId: string; project: string },
  dockerVolume: string,
): Promise<Docker.Container> {
  await ensureHelperImage(docker);
  return create(docker, who, dockerVolume).catch(async (err: { statusCode?: number }) => {
    if (err.statusCode !== 404) throw err;
    imported = null;
    await ensureHelperImage(docker);
    return create(docker, who, dockerVolume);
  });
}

function create(
  docker: Docker,
  who: { agentId: string; project: string },
  dockerVolume: string,
): Promise<Docker.Container> {
  return docker.createContainer({
    name: `slipway-${who.project}-volume-${randomToken(8)}`,
    Image: HELPER_IMAGE,
    Labels: helperLabels(who.agentId, who.project),
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      Mounts: [{ Type: 'volume', Source: dockerVolume, Target: HELPER_MOUNT }],
    },
  });
}
