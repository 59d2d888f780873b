import type Docker from 'dockerode';
import { labelFilter, networkLabels } from './labels.ts';

/** The name of a project's private Docker network. */
export function networkName(project: string): string {
  return `slipway-${project}`;
}

/**
 * A deployment ensures its project's network while it builds and again when it starts the
 * release, moments later: the second time takes the first one's answer instead of asking the
 * engine, once, if it is at most this old. Any other caller asks.
 */
const ENSURED_FOR_MS = 30_000;

/** Per engine client: network name → when it was last found or created and not yet taken as known. */
const ensured = new WeakMap<Docker, Map<string, number>>();

/** Creates the project's bridge network if it does not exist; returns its name. */
export async function ensureProjectNetwork(docker: Docker, project: string): Promise<string> {
  const name = networkName(project);
  const seen = ensured.get(docker) ?? new Map<string, number>();
  ensured.set(docker, seen);
  const known = seen.get(name);
  seen.delete(name);
  if (known !== undefined && Date.now() - known < ENSURED_FOR_MS) return name;
  const found = await docker.listNetworks({ filters: { name: [name], label: labelFilter({}) } });
  if (!found.some((n) => n.Name === name)) {
    try {
      await docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: networkLabels(project),
      });
    } catch (err) {
      // Another deployment of the same project may have created it a moment ago.
      if ((err as { statusCode?: number }).statusCode !== 409) throw err;
    }
  }
  seen.set(name, Date.now());
  return name;
}

/** Removes the project's network (one in use or already gone is left alone) and forgets it was there. */
export async function removeProjectNetwork(docker: Docker, project: string): Promise<void> {
  const name = networkName(project);
  ensured.get(docker)?.delete(name);
  await docker
    .getNetwork(name)
    .remove()
    .catch(() => {});
}
