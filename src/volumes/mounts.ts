import type Docker from 'dockerode';
import type { ProjectRow } from '../db/projects.ts';
import type { VolumeRepo, VolumeRow } from '../db/volumes.ts';
import type { Logger } from '../log.ts';
import { nowIso } from '../ids.ts';
import { createDockerVolume, inspectDockerVolume, newDockerVolumeName } from './docker-volumes.ts';
import type { VolumeQuotaProbe } from './quota.ts';

/** What mounting a project's volumes needs. */
export interface VolumeMountsDeps {
  docker: Docker;
  agentId: string;
  repo: VolumeRepo;
  quota: VolumeQuotaProbe;
  log: Logger;
}

/** One volume mount of an app container. */
export interface VolumeMount {
  Type: 'volume';
  Source: string;
  Target: string;
}

/**
 * Makes a project's volumes exist and says how instances mount them. A volume is created the first
 * time an instance needs it (its Docker name recorded, so it is Slipway's by record, not by label);
 * a recorded volume that Docker lost is created again, empty, with a warning in the log.
 */
export function volumeMounts(d: VolumeMountsDeps) {
  /** The size limit a new volume of `p` gets: its quota, where the engine can enforce one. */
  async function limitFor(p: ProjectRow): Promise<number | null> {
    if (p.quota_volume_mb === null) return null;
    const support = await d.quota.support();
    return support.enforced ? p.quota_volume_mb * 1024 * 1024 : null;
  }

  /** The recorded volume `name` of `p`, created (recorded and in Docker) when missing. */
  async function ensure(p: ProjectRow, name: string): Promise<VolumeRow> {
    const recorded = d.repo.find(p.id, name);
    if (recorded) {
      if (await inspectDockerVolume(d.docker, d.agentId, recorded.docker_name)) return recorded;
      d.log.warn('a recorded volume is missing from Docker; creating it again, empty', {
        project: p.name,
        volume: name,
        docker_volume: recorded.docker_name,
      });
      await createDockerVolume(d.docker, {
        agentId: d.agentId,
        project: p.name,
        volume: name,
        dockerName: recorded.docker_name,
        limitBytes: recorded.size_limit_bytes,
      });
      return recorded;
    }
    const row: VolumeRow = {
      project_id: p.id,
      name,
      docker_name: newDockerVolumeName(p.name, name),
      size_limit_bytes: await limitFor(p),
      created_at: nowIso(),
    };
    await createDockerVolume(d.docker, {
      agentId: d.agentId,
      project: p.name,
      volume: name,
      dockerName: row.docker_name,
      limitBytes: row.size_limit_bytes,
    });
    try {
      d.repo.insert(row);
    } catch (err) {
      await d.docker
        .getVolume(row.docker_name)
        .remove()
        .catch(() => {});
      throw err;
    }
    return row;
  }

  return {
    ensure,
    limitFor,
    /** The mounts every instance of `p` gets, creating volumes on first use. */
    async mountsFor(p: ProjectRow): Promise<VolumeMount[]> {
      const mounts: VolumeMount[] = [];
      for (const v of p.volumes) {
        const row = await ensure(p, v.name);
        mounts.push({ Type: 'volume', Source: row.docker_name, Target: v.mount_path });
      }
      return mounts;
    },
  };
}

/** Mounting a project's volumes. */
export type VolumeMounts = ReturnType<typeof volumeMounts>;
