import type { Db } from '../db/open.ts';
import type { ProjectRepo, ProjectRow, ProjectSettings } from '../db/projects.ts';
import { decodeCursor, toPage, type Page } from '../db/pagination.ts';
import type { ActivityService, Actor } from '../activity/service.ts';
import { ConflictError } from '../errors.ts';
import { newId, nowIso } from '../ids.ts';
import { findProject } from './find.ts';

/** Settings a new project gets when the request leaves them out. */
export const PROJECT_DEFAULTS: ProjectSettings = {
  port: null,
  health_check_path: '/',
  instances: 1,
  memory_mb: 512,
  cpus: 1,
  dockerfile: null,
  deploy_timeout: 60,
};

/** A project as the API shows it. */
export type ProjectView = ProjectRow & { hostname: string };

/** Creates, reads, changes and deletes projects. */
export function projectService(db: Db, repo: ProjectRepo, activity: ActivityService, baseDomain: string) {
  const view = (row: ProjectRow): ProjectView => ({ ...row, hostname: `${row.name}.${baseDomain}` });

  const require = (name: string): ProjectRow => findProject(repo, name);

  return {
    /** Creates a project; 409 when the name is taken. */
    create(actor: Actor, input: { name: string } & Partial<ProjectSettings>): ProjectView {
      const now = nowIso();
      const row: ProjectRow = {
        ...PROJECT_DEFAULTS,
        ...input,
        desired_state: 'running',
        id: newId('prj'),
        created_at: now,
        updated_at: now,
      };
      db.transaction(() => {
        if (repo.findByName(row.name))
          throw new ConflictError(`Cannot create project "${row.name}": the name is taken`);
        repo.insert(row);
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
    get: (name: string): ProjectView => view(require(name)),

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
          if (value !== undefined && current[key] !== value) changes[key] = { from: current[key], to: value };
        }
        if (Object.keys(changes).length === 0) return view(current);
        const next: ProjectRow = { ...current, ...stripUndefined(patch), updated_at: nowIso() };
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
  const { port, health_check_path, instances, memory_mb, cpus, dockerfile, deploy_timeout } = row;
  return { port, health_check_path, instances, memory_mb, cpus, dockerfile, deploy_timeout };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
