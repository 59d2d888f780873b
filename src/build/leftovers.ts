/**
 * Making sure an aborted build leaves no container behind. Closing the build request cancels the
 * classic builder, which kills and removes its running container itself (and `forcerm` removes
 * the others); this is the check that it happened, and the removal when it did not.
 *
 * A build container is known by the ` ---> Running in <id>` line the builder prints when it
 * creates one, minus those it reported as `Removing intermediate container <id>`. That text
 * shares the stream with RUN output, so a build could print another container's id: only
 * containers that did not exist when the build started are ever removed.
 */
import type Docker from 'dockerode';

const GONE_WITHIN_MS = 10_000;
const POLL_MS = 200;

/** The ids of every container that exists now, taken before a build starts. */
export async function existingContainers(docker: Docker): Promise<Set<string>> {
  const all = await docker.listContainers({ all: true });
  return new Set(all.map((c) => c.Id));
}

/**
 * Force-removes the announced build containers that were created after `before` was taken, and
 * waits until they are gone. Problems are reported through `onLine` rather than thrown: the
 * caller is already failing the build, and its reason (cancel, timeout) must not be lost.
 */
export async function removeLeftovers(
  docker: Docker,
  announced: Iterable<string>,
  before: ReadonlySet<string>,
  onLine: (line: string) => void,
): Promise<void> {
  for (const shortId of announced) {
    try {
      const id = await fullId(docker, shortId);
      if (id === null || before.has(id)) continue;
      if (await removeContainer(docker, id)) onLine(`Removed build container ${shortId}`);
      await waitUntilGone(docker, id);
    } catch (err) {
      onLine(`Could not remove build container ${shortId}: ${(err as Error).message}`);
    }
  }
}

/**
 * True if this call removed it; false if the builder's own cleanup got there first. The engine may
 * refuse a removal while the builder's kill of the same container is still under way (a 500):
 * that is tried again until GONE_WITHIN_MS.
 */
async function removeContainer(docker: Docker, id: string): Promise<boolean> {
  const deadline = Date.now() + GONE_WITHIN_MS;
  for (;;) {
    try {
      await docker.getContainer(id).remove({ force: true, v: true });
      return true;
    } catch (err) {
      // 404: the builder removed it first; 409: its removal is already under way.
      if (hasStatus(err, 404, 409)) return false;
      if (Date.now() > deadline) throw err;
      await Bun.sleep(POLL_MS);
    }
  }
}

async function waitUntilGone(docker: Docker, id: string): Promise<void> {
  const deadline = Date.now() + GONE_WITHIN_MS;
  while ((await fullId(docker, id)) !== null) {
    if (Date.now() > deadline) throw new Error(`still there ${GONE_WITHIN_MS / 1000} s after its removal`);
    await Bun.sleep(POLL_MS);
  }
}

async function fullId(docker: Docker, id: string): Promise<string | null> {
  try {
    return (await docker.getContainer(id).inspect()).Id;
  } catch (err) {
    if (hasStatus(err, 404)) return null;
    throw err;
  }
}

function hasStatus(err: unknown, ...codes: number[]): boolean {
  return codes.includes((err as { statusCode?: number }).statusCode ?? 0);
}
