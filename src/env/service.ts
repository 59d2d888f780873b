import type { Db } from '../db/open.ts';
import type { EnvRepo } from '../db/env.ts';
import type { ProjectRepo, ProjectRow } from '../db/projects.ts';
import type { ActivityService, Actor } from '../activity/service.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { MASK, Masker } from '../secrets/masker.ts';
import { ValidationError } from '../errors.ts';
import { nowIso } from '../ids.ts';
import { findProject } from '../projects/find.ts';

/** An env var as the API shows it. */
export interface EnvVarView {
  key: string;
  value: string;
  managed_by: string | null;
  created_at: string;
  updated_at: string;
}

/** Keys the runtime sets itself. */
const RESERVED = new Set(['PORT']);
/** The largest value one env var may hold. */
export const MAX_VALUE_BYTES = 32 * 1024;
/** The most env vars one project may have. */
export const MAX_VARS = 500;

/** Env vars of projects, sealed at rest; the secrets of a project as a log masker. */
export function envService(d: {
  db: Db;
  env: EnvRepo;
  projects: ProjectRepo;
  activity: ActivityService;
  box: SecretBox;
}) {
  const maskers = new Map<string, Masker>();
  const context = (projectId: string, key: string) => `env:${projectId}:${key}`;

  const project = (name: string): ProjectRow => findProject(d.projects, name);

  function values(projectId: string): Record<string, string> {
    return Object.fromEntries(
      d.env.list(projectId).map((r) => [r.key, d.box.open(r.value, context(projectId, r.key))]),
    );
  }

  return {
    /** Keys with values masked, or revealed (the caller checked the scope and records it). */
    list(actor: Actor, name: string, reveal: boolean): EnvVarView[] {
      const p = project(name);
      const rows = d.env.list(p.id);
      if (reveal)
        d.activity.record(actor, {
          action: 'env.reveal',
          targetType: 'project',
          target: p.name,
          project: p.name,
          changes: { keys: rows.map((r) => r.key) },
        });
      return rows.map((r) => ({
        key: r.key,
        value: reveal ? d.box.open(r.value, context(p.id, r.key)) : MASK,
        managed_by: r.managed_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
      }));
    },

    /** Sets and unsets (null) vars in one transaction; records the keys, never the values. */
    update(
      actor: Actor,
      name: string,
      vars: Record<string, string | null>,
      managedBy: string | null = null,
    ): { changed: boolean; project: ProjectRow } {
      const p = project(name);
      check(vars);
      const current = values(p.id);
      const set = Object.keys(vars).filter((k) => vars[k] !== null && current[k] !== vars[k]);
      const unset = Object.keys(vars).filter((k) => vars[k] === null && k in current);
      if (Object.keys(current).length + set.filter((k) => !(k in current)).length > MAX_VARS) {
        throw new ValidationError(`Cannot set env of "${name}": at most ${MAX_VARS} vars per project`);
      }
      if (set.length + unset.length === 0) return { changed: false, project: p };
      d.db.transaction(() => {
        const at = nowIso();
        for (const key of set)
          d.env.set({
            project_id: p.id,
            key,
            value: d.box.seal(vars[key]!, context(p.id, key)),
            managed_by: managedBy,
            at,
          });
        for (const key of unset) d.env.remove(p.id, key);
        d.activity.record(actor, {
          action: 'env.update',
          targetType: 'project',
          target: p.name,
          project: p.name,
          changes: { set, unset },
        });
      })();
      maskers.delete(p.id);
      return { changed: true, project: p };
    },

    /** The plain values, for the runtime. */
    values,

    /** Replaces all vars of a project with `snapshot` (a rollback restores its release's env). */
    restore(projectId: string, snapshot: Record<string, string>): void {
      d.db.transaction(() => {
        d.env.clear(projectId);
        const at = nowIso();
        for (const [key, value] of Object.entries(snapshot)) {
          d.env.set({
            project_id: projectId,
            key,
            value: d.box.seal(value, context(projectId, key)),
            managed_by: null,
            at,
          });
        }
      })();
      maskers.delete(projectId);
    },

    /** Seals a whole env as one value, a deployment's snapshot; bound to the project, so a rollback can reuse it. */
    sealSnapshot: (projectId: string, env: Record<string, string>) =>
      d.box.seal(JSON.stringify(env), `snapshot:${projectId}`),
    /** Opens what sealSnapshot made. */
    openSnapshot: (projectId: string, sealed: string) =>
      JSON.parse(d.box.open(sealed, `snapshot:${projectId}`)) as Record<string, string>,

    /** A masker of the project's current secret values, cached until they change. */
    masker(projectId: string): Masker {
      let m = maskers.get(projectId);
      if (!m) maskers.set(projectId, (m = new Masker(Object.values(values(projectId)))));
      return m;
    },
  };
}

/** The env service. */
export type EnvService = ReturnType<typeof envService>;

function check(vars: Record<string, string | null>): void {
  const issues: { path: string; message: string }[] = [];
  for (const [key, value] of Object.entries(vars)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,255}$/.test(key))
      issues.push({
        path: `/vars/${key}`,
        message: 'Expected a name of letters, digits and _, not starting with a digit',
      });
    else if (RESERVED.has(key)) issues.push({ path: `/vars/${key}`, message: `${key} is set by Slipway` });
    if (typeof value === 'string' && Buffer.byteLength(value) > MAX_VALUE_BYTES)
      issues.push({ path: `/vars/${key}`, message: `Expected at most ${MAX_VALUE_BYTES} bytes` });
    if (typeof value === 'string' && value.includes('\0'))
      issues.push({ path: `/vars/${key}`, message: 'Expected no NUL character' });
  }
  if (issues.length > 0) throw new ValidationError('Invalid env vars', issues);
}
