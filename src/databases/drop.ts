import type Docker from 'dockerode';
import { type DatabaseRef, findDatabaseContainer, findDatabaseVolume } from './inspect.ts';

/** Removes a project's database container and its volume, data and all. Whatever is already gone is fine. */
export async function dropDatabase(docker: Docker, ref: DatabaseRef, project: string): Promise<void> {
  const container = await findDatabaseContainer(docker, ref, project);
  // No clean shutdown first: the data is about to be deleted anyway.
  if (container) await ignoreGone(docker.getContainer(container.Id).remove({ force: true, v: true }));
  const volume = await findDatabaseVolume(docker, ref, project);
  if (volume) await ignoreGone(docker.getVolume(volume.Name).remove());
}

async function ignoreGone(removal: Promise<unknown>): Promise<void> {
  try {
    await removal;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
}
