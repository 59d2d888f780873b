/**
 * The network build steps run on. The engine's default bridge would let a RUN step reach the host
 * through its gateway address and every other container on that bridge; a network of its own, with
 * a bridge interface of a known name, lets the firewall (firewall.ts) single out build traffic.
 * Containers on it cannot reach each other either (inter-container traffic off), so two projects'
 * concurrent builds cannot talk.
 */
import type Docker from 'dockerode';
import { buildNetworkLabels, LABEL } from '../runtime/labels.ts';

/** The build network's names. */
export interface BuildNetworkNames {
  /**
   * The Docker network. Project networks are `slipway-<project>` with project names of letters,
   * digits and dashes, so an underscore keeps the two apart.
   */
  network: string;
  /** Its bridge interface on the host (at most 15 characters). */
  bridge: string;
}

/** The build network of an install. */
export const BUILD_NETWORK: BuildNetworkNames = { network: 'slipway_build', bridge: 'slipway_build0' };

const BRIDGE_NAME = 'com.docker.network.bridge.name';
const ICC = 'com.docker.network.bridge.enable_icc';

/** Creates the network unless it exists; throws when a network of that name is not Slipway's build network. */
export async function ensureBuildNetwork(docker: Docker, names: BuildNetworkNames): Promise<void> {
  if ((await buildNetworkProblem(docker, names)) === null) return;
  try {
    await docker.createNetwork({
      Name: names.network,
      Driver: 'bridge',
      CheckDuplicate: true,
      EnableIPv6: false,
      Labels: buildNetworkLabels(),
      Options: { [BRIDGE_NAME]: names.bridge, [ICC]: 'false' },
    });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  }
  const problem = await buildNetworkProblem(docker, names);
  if (problem !== null) throw new Error(problem);
}

/** What is wrong with the build network as it is, or null when it is in place. */
export async function buildNetworkProblem(docker: Docker, names: BuildNetworkNames): Promise<string | null> {
  let info: Docker.NetworkInspectInfo;
  try {
    info = await docker.getNetwork(names.network).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return `the build network ${names.network} does not exist`;
    throw err;
  }
  const labels = info.Labels ?? {};
  if (labels[LABEL.managed] !== 'true' || labels[LABEL.role] !== 'build') {
    return `a network named ${names.network} exists that is not Slipway's build network`;
  }
  if (info.Options?.[BRIDGE_NAME] !== names.bridge || info.Options?.[ICC] !== 'false' || info.EnableIPv6) {
    return `the build network ${names.network} does not have the expected bridge ${names.bridge}, inter-container traffic off and no IPv6`;
  }
  return null;
}

/** Removes the network; for tests, which make networks of their own. */
export async function removeBuildNetwork(docker: Docker, names: BuildNetworkNames): Promise<void> {
  await docker
    .getNetwork(names.network)
    .remove()
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
}
