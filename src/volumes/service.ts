import type Docker from 'dockerode';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Db } from '../db/open.ts';
import type { ProjectRepo, ProjectRow } from '../db/projects.ts';
import type { VolumeRepo, VolumeRow } from '../db/volumes.ts';
import type { ActivityService, Actor } from '../activity/service.ts';
import type { Logger } from '../log.ts';
import type { ReleaseService } from '../release/service.ts';
import { ConflictError, NotFoundError, UnsupportedMediaTypeError, ValidationError } from '../errors.ts';
import { nowIso } from '../ids.ts';
import { findProject } from '../projects/find.ts';
import { receiveUpload } from '../deployments/upload.ts';
import { labelFilter } from '../runtime/labels.ts';
import { FILL_PREFIX, fillVolume, readVolume } from './archive.ts';
import { cleanVolumeArchive } from './clean-archive.ts';
import {
  createDockerVolume,
  inspectDockerVolume,
  newDockerVolumeName,
  removeDockerVolume,
  VolumeInUseError,
} from './docker-volumes.ts';
import type { VolumeMounts } from './mounts.ts';
import type { VolumeSizes } from './sizes.ts';

/** The most entries a restored volume archive may hold. */
const MAX_RESTORE_ENTRIES = 1_000_000;

/** One of a project's volumes as the API shows it. */
export interface VolumeView {
  name: string;
  /** Where instances mount it; null once it was taken out of the setting (its data is kept). */
  mount_path: string | null;
  /** Whether Docker has it yet: a volume is created when the first instance needs it. */
  created: boolean;
  docker_volume: string | null;
  size_bytes: number | null;
  measured_at: string | null;
  /** The size limit the engine enforces on it; null when none is. */
  size_limit_bytes: number | null;
  created_at: string | null;
}

/** What the volume service needs. */
export interface VolumeServiceDeps {
  db: Db;
  docker: Docker;
  agentId: string;
  repo: VolumeRepo;
  projects: ProjectRepo;
  activity: ActivityService;
  mounts: VolumeMounts;
  sizes: VolumeSizes;
  releases: Pick<ReleaseService, 'whileStopped' | 'locks'>;
  log: Logger;
  tmpDir(): string;
  maxUploadBytes: number;
  /** The most a restore may write when the project has no volume quota. */
  maxRestoreBytes: number;
}

/** A project's volumes: list, download, restore, delete; and what project deletion needs of them. */
export function volumeService(d: VolumeServiceDeps) {
  const project = (name: string): ProjectRow => findProject(d.projects, name);
  const who = (p: ProjectRow) => ({ agentId: d.agentId, project: p.name });

  function view(p: ProjectRow, name: string, row: VolumeRow | undefined): VolumeView {
    const size = row ? d.sizes.get(row.docker_name) : null;
    return {
      name,
      mount_path: p.volumes.find((v) => v.name === name)?.mount_path ?? null,
      created: row !== undefined,
      docker_volume: row?.docker_name ?? null,
      size_bytes: size?.bytes ?? null,
      measured_at: size?.measuredAt ?? null,
      size_limit_bytes: row?.size_limit_bytes ?? null,
      created_at: row?.created_at ?? null,
    };
  }

  /** The recorded volume, or a 404 saying why there is none. */
  function recorded(p: ProjectRow, volume: string): VolumeRow {
    const row = d.repo.find(p.id, volume);
    if (row) return row;
    if (p.volumes.some((v) => v.name === volume))
      throw new NotFoundError(`Volume "${volume}" of "${p.name}" holds nothing yet: it is created on the next deploy`);
    throw new NotFoundError(`Project "${p.name}" has no volume named "${volume}"`);
  }

  return {
    /** The volumes in the setting, in its order, then those taken out of it (data kept), by name. */
    list(name: string): VolumeView[] {
      const p = project(name);
      const rows = d.repo.ofProject(p.id);
      const attached = p.volumes.map((v) =>
        view(
          p,
          v.name,
          rows.find((r) => r.name === v.name),
        ),
      );
      const detached = rows.filter((r) => !p.volumes.some((v) => v.name === r.name)).map((r) => view(p, r.name, r));
      return [...attached, ...detached];
    },

    /** A tar of the volume, streamed; recorded in the activity log. */
    async download(actor: Actor, name: string, volume: string): Promise<Readable> {
      const p = project(name);
      const row = recorded(p, volume);
      // A helper mounting a name Docker does not have would make an empty, unlabelled volume of it.
      if (!(await inspectDockerVolume(d.docker, d.agentId, row.docker_name)))
        throw new NotFoundError(
          `Volume "${volume}" of "${name}" is missing from Docker (${row.docker_name}); the next deploy creates it again, empty`,
        );
      const stream = await readVolume(d.docker, who(p), row.docker_name);
      d.activity.record(actor, { action: 'volume.download', targetType: 'volume', target: volume, project: name });
      return stream;
    },

    /**
     * Replaces a volume's content with a tar or tar.gz from the request. The archive is checked
     * and extracted into a new Docker volume first, while the app still runs; then, with the app
     * stopped (when it mounts the volume), the new volume takes the old one's place and the app
     * starts again. A refused or failed restore changes nothing.
     */
    async restore(actor: Actor, name: string, volume: string, request: Request): Promise<VolumeView> {
      const p = project(name);
      const attached = p.volumes.some((v) => v.name === volume);
      if (!attached && !d.repo.find(p.id, volume))
        throw new NotFoundError(`Project "${name}" has no volume named "${volume}"`);
      const upload = await receiveUpload(request, d.tmpDir(), d.maxUploadBytes);
      const clean = join(d.tmpDir(), `volume-${crypto.randomUUID()}.tar`);
      try {
        if (upload.format === 'zip')
          throw new UnsupportedMediaTypeError('A volume is restored from a tar or tar.gz, not a zip');
        const maxBytes = p.quota_volume_mb === null ? d.maxRestoreBytes : p.quota_volume_mb * 1024 * 1024;
        const cleaned = await cleanVolumeArchive({
          input: upload.path,
          gzip: upload.format === 'tar.gz',
          output: clean,
          prefix: FILL_PREFIX,
          limits: { maxEntries: MAX_RESTORE_ENTRIES, maxBytes },
        });
        const row: VolumeRow = {
          project_id: p.id,
          name: volume,
          docker_name: newDockerVolumeName(name, volume),
          size_limit_bytes: await d.mounts.limitFor(p),
          created_at: nowIso(),
        };
        await createDockerVolume(d.docker, {
          ...who(p),
          volume,
          dockerName: row.docker_name,
          limitBytes: row.size_limit_bytes,
        });
        let replaced: string | null;
        try {
          await fillVolume(d.docker, who(p), row.docker_name, clean);
          const swap = async (current: ProjectRow) => swapIn(current, row, actor, cleaned);
          replaced = attached
            ? await d.releases.whileStopped(name, swap)
            : await d.releases.locks.run(name, () => swap(project(name)));
        } catch (err) {
          await removeDockerVolume(d.docker, d.agentId, row.docker_name).catch(() => {});
          throw err;
        }
        if (replaced)
          await removeDockerVolume(d.docker, d.agentId, replaced).catch((err) =>
            d.log.warn('the volume a restore replaced could not be removed', {
              project: name,
              docker_volume: replaced,
              error: String(err),
            }),
          );
        await d.sizes.refresh();
        return view(project(name), volume, d.repo.find(p.id, volume));
      } finally {
        await rm(upload.path, { force: true });
        await rm(clean, { force: true });
      }
    },

    /** Deletes a volume taken out of the setting, data and all (only with ?confirm=<volume>). */
    async remove(actor: Actor, name: string, volume: string, confirm: string | undefined): Promise<void> {
      const p = project(name);
      const row = recorded(p, volume);
      if (p.volumes.some((v) => v.name === volume))
        throw new ConflictError(
          `Cannot delete volume "${volume}" of "${name}": it is in the project's volumes setting; take it out first`,
        );
      if (confirm !== volume)
        throw new ValidationError(
          `Deleting volume "${volume}" of "${name}" destroys its data: repeat the volume name as ?confirm=${volume}`,
          [{ path: '/confirm', message: `Expected "${volume}"` }],
        );
      await d.releases.locks.run(name, async () => {
        try {
          await removeDockerVolume(d.docker, d.agentId, row.docker_name);
        } catch (err) {
          if (err instanceof VolumeInUseError)
            throw new ConflictError(
              `Cannot delete volume "${volume}" of "${name}": an instance started before it was taken out of the setting still mounts it; restart the project first`,
            );
          throw err;
        }
        d.db.transaction(() => {
          d.repo.remove(p.id, volume);
          d.activity.record(actor, { action: 'volume.delete', targetType: 'volume', target: volume, project: name });
        })();
      });
    },

    /** Whether a project has volumes with data (deleting it asks for confirmation then). */
    has: (projectId: string) => d.repo.ofProject(projectId).length > 0,

    /** What a project's volumes hold in all, as last measured: 0 without volumes, null before a measurement. */
    sizeOf: (projectId: string): number | null => d.sizes.total(d.repo.ofProject(projectId).map((r) => r.docker_name)),

    /** Removes every volume of a project, and any helper container left behind, as part of deleting it. */
    async drop(p: ProjectRow): Promise<void> {
      const helpers = await d.docker.listContainers({
        all: true,
        filters: { label: labelFilter({ agent: d.agentId, project: p.name, role: 'helper' }) },
      });
      for (const h of helpers)
        await d.docker
          .getContainer(h.Id)
          .remove({ force: true })
          .catch(() => {});
      for (const row of d.repo.ofProject(p.id)) await removeDockerVolume(d.docker, d.agentId, row.docker_name);
    },
  };

  /** Points the volume name at the restored Docker volume; returns the one it replaces. */
  function swapIn(
    p: ProjectRow,
    row: VolumeRow,
    actor: Actor,
    cleaned: { entries: number; bytes: number },
  ): string | null {
    return d.db.transaction(() => {
      const previous = d.repo.find(p.id, row.name);
      if (previous) d.repo.replace(row);
      else d.repo.insert(row);
      d.activity.record(actor, {
        action: 'volume.restore',
        targetType: 'volume',
        target: row.name,
        project: p.name,
        changes: { entries: cleaned.entries, bytes: cleaned.bytes },
      });
      return previous?.docker_name ?? null;
    })();
  }
}

/** The volume service. */
export type VolumeService = ReturnType<typeof volumeService>;
