import type Docker from 'dockerode';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createHelper, HELPER_MOUNT, withHelper } from './helper.ts';

/** Who a helper container is made for (its labels). */
export interface HelperOwner {
  agentId: string;
  project: string;
}

/**
 * A tar of a volume's content, streamed from the engine as it reads the files: entries are `./`
 * (the volume root, with its mode and owner) and `./<path>`, numeric owners kept. The helper
 * container goes when the stream ends or is abandoned.
 */
export async function readVolume(docker: Docker, who: HelperOwner, dockerVolume: string): Promise<Readable> {
  const container = await createHelper(docker, who, dockerVolume);
  const remove = () => void container.remove({ force: true }).catch(() => {});
  try {
    const stream = (await container.getArchive({ path: `${HELPER_MOUNT}/.` })) as unknown as Readable;
    stream.once('close', remove);
    return stream;
  } catch (err) {
    remove();
    throw err;
  }
}

/**
 * Extracts a tar made by cleanVolumeArchive (every entry under `volume/`) into a volume, through
 * the engine, which keeps the entries' numeric owners.
 */
export async function fillVolume(docker: Docker, who: HelperOwner, dockerVolume: string, tarPath: string) {
  await withHelper(docker, who, dockerVolume, (container) =>
    container.putArchive(createReadStream(tarPath), { path: '/', copyUIDGID: '1' } as never),
  );
}

/** The prefix fillVolume expects: the helper's mount point, without its slash. */
export const FILL_PREFIX = HELPER_MOUNT.slice(1);
