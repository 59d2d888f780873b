import type Docker from 'dockerode';
import { labelFilter, networkLabels } from './labels.ts';

/** The name of a project's private Docker network. */
export function networkName(project: string): string {
  return `slipway-${project}`;
}

/** Creates the project's bridge network if it does not exist; returns its name. */
export async function ensureProjectNetwork(docker: Docker, project: string): Promise<string> {
  const name = networkName(project);
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
  return name;
}

/** Removes the project's network (one in use or already gone is left alone). */
export async function removeProjectNetwork(docker: Docker, project: string): Promise<void> {
  const name = networkName(project);
  await docker
    .getNetwork(name)
    .remove()
    .catch(() => {});
}
