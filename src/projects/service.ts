import type { Db } from '../db/open.ts';
import type { ProjectRepo, ProjectRow, ProjectSettings } from '../db/projects.ts';
import type { TokenRepo } from '../db/tokens.ts';
import { decodeCursor, toPage, type Page } from '../db/pagination.ts';
import { changeCounter, ReadCache } from '../db/read-cache.ts';
import type { ActivityService, Actor } from '../activity/service.ts';
import { ConflictError } from '../errors.ts';
import { newId, nowIso } from '../ids.ts';
import { deepFreeze } from '../frozen.ts';
import { findProject } from './find.ts';
import { checkQuota, checkQuotaFits, DEFAULT_QUOTA, type Quota } from './quota.ts';
import { checkInstancesWithVolumes, checkVolumes, sameVolumes } from '../volumes/spec.ts';

/** Settings a new project gets when the request leaves them out. */
export const PROJECT_DEFAULTS: ProjectSettings = {
  port: null,
  health_check_path: '/',
  instances: 1,
  memory_mb: 512,
  cpus: 1,
  dockerfile: null,
  deploy_timeout: 60,
  volumes: [],
  volumes_shared: false,
};

/** A project as the API shows it. */
export type ProjectView = Omit<ProjectRow, 'quota_instances' | 'quota_memory_mb' | 'quota_cpus' | 'quota_volume_mb'> & {
  hostname: string;
  quota: Quota;
  /** What the project's volumes hold in all, as last measured; null before the first measurement. */
  volumes_size_bytes: number | null;
};

/** A project row's quota. */
export function quotaOf(row: ProjectRow): Quota {
  return {
    instances: row.quota_instances,
    memory_mb: row.quota_memory_mb,
    cpus: row.quota_cpus,
    volume_mb: row.quota_volume_mb,
  };
}

/**
 * Creates, reads, changes and deletes projects. `tokens` hands a new project to the tokens minted
 * for its name before it existed; a deleted project's grants go with its row. `volumesSize` reads
 * the size of a project's volumes from a cache; it never waits for a measurement.
 */
export function projectService(
  db: Db,
  repo: ProjectRepo,
  activity: ActivityService,
  baseDomain: string,
  tokens: Pick<TokenRepo, 'bindPending'>,
  volumesSize: (projectId: string) => number | null = () => null,
) {
  const view = (row: ProjectRow): ProjectView => {
    const { quota_instances: _i, quota_memory_mb: _m, quota_cpus: _c, quota_volume_mb: _v, ...rest } = row;
    return {
      ...rest,
      hostname: `${row.name}.${baseDomain}`,
      quota: quotaOf(row),
      volumes_size_bytes: volumesSize(row.id),
    };
  };

  const checkSettings = (row: ProjectRow) => {
    checkVolumes(row.name, row.volumes);
    checkInstancesWithVolumes(row.name, row);
  };

  const require = (name: string): ProjectRow => findProject(repo, name);
  // Rows read for GET, kept while the database is unchanged; `view` copies what it shows, never mutates.
  const readable = new ReadCache<ProjectRow>(changeCounter(db));
  const load = (name: string) => repo.findByName(name);
  const cachedRepo = { findByName: (name: string) => readable.get(name, load) };
  // The view of a cached row, deeply frozen and reused while the row and its volumes' size are the
  // same: the API's fast lane serialises and checks a body it has seen before only once.
  const views = new WeakMap<ProjectRow, ProjectView>();
  const cachedView = (row: ProjectRow): ProjectView => {
    const known = views.get(row);
    if (known && known.volumes_size_bytes === volumesSize(row.id)) return known;
    const fresh = deepFreeze(view(row));
    views.set(row, fresh);
    return fresh;
  };

  return {
    /** Creates a project; 409 when the name is taken. */
    create(actor: Actor, input: { name: string } & Partial<ProjectSettings>): ProjectView {
      const now = nowIso();
      const row: ProjectRow = {
        ...PROJECT_DEFAULTS,
        ...input,
        desired_state: 'running',
        id: newId('prj'),
        quota_instances: DEFAULT_QUOTA.instances,
        quota_memory_mb: DEFAULT_QUOTA.memory_mb,
        quota_cpus: DEFAULT_QUOTA.cpus,
        quota_volume_mb: DEFAULT_QUOTA.volume_mb,
        created_at: now,
        updated_at: now,
      };
      checkQuota(row.name, { instances: 0, memory_mb: 0, cpus: 0 }, row, quotaOf(row));
      checkSettings(row);
      db.transaction(() => {
        if (repo.findByName(row.name))
          throw new ConflictError(`Cannot create project "${row.name}": the name is taken`);
        repo.insert(row);
        tokens.bindPending(row.id, row.name);
        activity.record(actor, {
          action: 'project.create',
          targetType: 'project',
          target: row.name,
          project: row.name,
          changes: settingsOf(row),
        });
      })();
      return view(row);
    },

    /** One project by name; 404 when there is none. */
    get: (name: string): ProjectView => cachedView(findProject(cachedRepo, name)),

    /** Projects ordered by name, optionally by name prefix, limited to `only` when the caller is. */
    list(q: { prefix?: string; cursor?: string; limit: number; only: string[] | null }): Page<ProjectView> {
      const rows = repo.list({
        after: decodeCursor('projects', q.cursor, 'string') ?? '',
        prefix: q.prefix ?? '',
        only: q.only,
        limit: q.limit + 1,
      });
      const page = toPage(rows, q.limit, (r) => r.name, 'projects');
      return { data: page.data.map(view), pagination: page.pagination };
    },

    /** Applies the given settings; records only the ones that changed. */
    update(actor: Actor, name: string, patch: Partial<ProjectSettings>): ProjectView {
      return db.transaction(() => {
        const current = require(name);
        const changes: Record<string, { from: unknown; to: unknown }> = {};
        for (const [key, value] of Object.entries(patch) as [keyof ProjectSettings, unknown][]) {
          if (value === undefined) continue;
          const same =
            key === 'volumes' ? sameVolumes(current.volumes, value as ProjectRow['volumes']) : current[key] === value;
          if (!same) changes[key] = { from: current[key], to: value };
        }
        if (Object.keys(changes).length === 0) return view(current);
        const next: ProjectRow = { ...current, ...stripUndefined(patch), updated_at: nowIso() };
        checkQuota(name, current, next, quotaOf(current));
        checkSettings(next);
        repo.update(next);
        activity.record(actor, {
          action: 'project.update',
          targetType: 'project',
          target: name,
          project: name,
          changes,
        });
        return view(next);
      })();
    },

    /** Sets the project's quota (admin); 409 when the project already uses more. */
    setQuota(actor: Actor, name: string, patch: Partial<Quota>): ProjectView {
      return db.transaction(() => {
        const current = require(name);
        const quota = { ...quotaOf(current), ...stripUndefined(patch) };
        checkQuotaFits(name, current, quota);
        const next: ProjectRow = {
          ...current,
          quota_instances: quota.instances,
          quota_memory_mb: quota.memory_mb,
          quota_cpus: quota.cpus,
          quota_volume_mb: quota.volume_mb,
          updated_at: nowIso(),
        };
        repo.update(next);
        activity.record(actor, {
          action: 'project.quota',
          targetType: 'project',
          target: name,
          project: name,
          changes: { from: quotaOf(current), to: quota },
        });
        return view(next);
      })();
    },

    /** Deletes a project and its settings. */
    remove(actor: Actor, name: string): void {
      db.transaction(() => {
        const current = require(name);
        repo.remove(name);
        activity.record(actor, {
          action: 'project.delete',
          targetType: 'project',
          target: name,
          project: name,
          changes: settingsOf(current),
        });
      })();
    },
  };
}

/** The project service. */
export type ProjectService = ReturnType<typeof projectService>;

function settingsOf(row: ProjectRow): ProjectSettings {
  const { port, health_check_path, instances, memory_mb, cpus, dockerfile, deploy_timeout, volumes, volumes_shared } =
    row;
  return { port, health_check_path, instances, memory_mb, cpus, dockerfile, deploy_timeout, volumes, volumes_shared };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
