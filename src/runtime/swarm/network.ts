import type Docker from 'dockerode';
import type { Logger } from '../../log.ts';
import { labelFilter, networkLabels } from '../labels.ts';
import { networkName } from '../network.ts';

/**
 * Creates the project's overlay network if it does not exist; returns its name. Attachable, so
 * that the project's database service and one-off containers can join it; encrypted (IPsec
 * between nodes) unless `encrypted` is false, when the nodes' kernels lack it.
 */
export async function ensureOverlayNetwork(
  docker: Docker,
  project: string,
  encrypted: boolean,
  log: Logger,
): Promise<string> {
  const name = networkName(project);
  const found = await docker.listNetworks({ filters: { name: [name], label: labelFilter({}) } });
  const existing = found.find((n) => n.Name === name);
  if (existing?.Driver === 'overlay') return name;
  if (existing) {
    // A bridge network of the same name, left by the docker runtime: nothing of this runtime uses it.
    log.warn('replacing a non-overlay project network', { project, driver: existing.Driver });
    await docker
      .getNetwork(existing.Id)
      .remove()
      .catch(() => {});
  }
  try {
    await docker.createNetwork({
      Name: name,
      Driver: 'overlay',
      Attachable: true,
      CheckDuplicate: true,
      Labels: networkLabels(project),
      Options: encrypted ? { encrypted: '' } : {},
    });
  } catch (err) {
    // Another deployment of the same project may have created it a moment ago.
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  }
  return name;
}
