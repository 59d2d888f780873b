/**
 * The Docker side of a project's volumes: names, creation with Slipway's labels (and a size limit
 * where the engine enforces one), and removal of only what carries this agent's labels.
 */
import type Docker from 'dockerode';
import { randomToken } from '../ids.ts';
import { labelOf, volumeLabels } from '../runtime/labels.ts';

/**
 * A fresh Docker volume name for one of a project's volumes. The random part makes each one
 * Slipway's own: a project deleted and created again, another agent's project of the same name,
 * or a restore (which fills a new volume before it swaps it in) never lands on existing data.
 */
export function newDockerVolumeName(project: string, volume: string): string {
  return `slipway-${project}-${volume}-${randomToken(10)}`;
}

/** Creates a labelled volume; `limitBytes` asks the local driver for a size limit (xfs project quota). */
export async function createDockerVolume(
  docker: Docker,
  v: { agentId: string; project: string; volume: string; dockerName: string; limitBytes: number | null },
): Promise<void> {
  await docker.createVolume({
    Name: v.dockerName,
    Driver: 'local',
    DriverOpts: v.limitBytes === null ? {} : { size: String(v.limitBytes) },
    Labels: volumeLabels(v.agentId, v.project, v.volume),
  });
}

/** The volume if it exists and is this agent's (by its labels); null when Docker has none of that name. */
export async function inspectDockerVolume(
  docker: Docker,
  agentId: string,
  dockerName: string,
): Promise<Docker.VolumeInspectInfo | null> {
  const info = await docker
    .getVolume(dockerName)
    .inspect()
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode === 404) return null;
      throw err;
    });
  if (info && (labelOf(info.Labels, 'agent') !== agentId || labelOf(info.Labels, 'role') !== 'volume')) {
    throw new Error(`Docker volume ${dockerName} does not carry this agent's labels; Slipway leaves it alone`);
  }
  return info;
}

/** A volume Docker refuses to remove because a container still mounts it. */
export class VolumeInUseError extends Error {
  constructor(readonly dockerName: string) {
    super(`Docker volume ${dockerName} is still mounted by a container`);
    this.name = 'VolumeInUseError';
  }
}

/** Removes this agent's volume; one already gone is fine. Throws VolumeInUseError while a container uses it. */
export async function removeDockerVolume(docker: Docker, agentId: string, dockerName: string): Promise<void> {
  const info = await inspectDockerVolume(docker, agentId, dockerName);
  if (!info) return;
  await docker
    .getVolume(dockerName)
    .remove()
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode === 404) return;
      if (err.statusCode === 409) throw new VolumeInUseError(dockerName);
      throw err;
    });
}
