/**
 * Release compare: what differs between two deployments of a project. Source files from their
 * stored archives, env keys from their sealed env snapshots (names only: values are compared
 * here and never leave), the settings each was queued with, and their images.
 */
import type { DeploymentRepo, DeploymentRow } from '../db/deployments.ts';
import type { ProjectRepo } from '../db/projects.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { findProject } from '../projects/find.ts';
import { diffSources, type SourceDiff } from './source-diff.ts';
import type { SourceStore } from './sources.ts';
import { readSettings } from './settings-snapshot.ts';

/** One side of a comparison. */
export interface ComparedDeployment {
  id: string;
  number: number;
  status: DeploymentRow['status'];
  created_at: string;
}

/** A part of the comparison that could not be made, and why (e.g. a pruned source). */
export interface Unavailable {
  available: false;
  reason: string;
}

/** The image side of a deployment. */
export interface ImageSide {
  ref: string | null;
  /** The digest a prebuilt image resolved to. */
  digest: string | null;
  tag: string | null;
  id: string | null;
  stack: string | null;
  exposed_port: number | null;
}

/** What GET …/deployments/compare answers. */
export interface DeploymentComparison {
  from: ComparedDeployment;
  to: ComparedDeployment;
  source: ({ available: true } & SourceDiff) | Unavailable;
  env: { available: true; added: string[]; removed: string[]; changed: string[] } | Unavailable;
  settings: { available: true; changed: { name: string; from: unknown; to: unknown }[] } | Unavailable;
  image: { changed: boolean; from: ImageSide; to: ImageSide };
}

/** What comparing needs. */
export interface CompareDeps {
  deployments: DeploymentRepo;
  projects: ProjectRepo;
  sources: SourceStore;
  /** Opens a deployment's sealed env snapshot. */
  openSnapshot(projectId: string, sealed: string): Record<string, string>;
}

/** Compares deployments `fromRef` and `toRef` (ids or numbers) of a project. */
export async function compareDeployments(
  d: CompareDeps,
  projectName: string,
  fromRef: string,
  toRef: string,
): Promise<DeploymentComparison> {
  const p = findProject(d.projects, projectName);
  const from = resolve(d, p.id, projectName, fromRef, 'from');
  const to = resolve(d, p.id, projectName, toRef, 'to');
  return {
    from: side(from),
    to: side(to),
    source: await compareSources(d, from, to),
    env: compareEnv(d, p.id, from, to),
    settings: compareSettings(from, to),
    image: { changed: imageChanged(from, to), from: imageSide(from), to: imageSide(to) },
  };
}

function resolve(d: CompareDeps, projectId: string, projectName: string, ref: string, field: string): DeploymentRow {
  const number = /^#?(\d{1,9})$/.exec(ref)?.[1];
  if (!number && !/^dep_[0-9a-z]{1,60}$/.test(ref))
    throw new ValidationError(`Invalid ${field} "${ref.slice(0, 80)}": expected a deployment id (dep_…) or number`, [
      { path: `/${field}`, message: 'Expected a deployment id or number' },
    ]);
  const row = number ? d.deployments.findByNumber(projectId, Number(number)) : d.deployments.find(projectId, ref);
  if (!row) throw new NotFoundError(`No deployment ${number ? `#${number}` : `"${ref}"`} in project "${projectName}"`);
  return row;
}

const side = (r: DeploymentRow): ComparedDeployment => ({
  id: r.id,
  number: r.number,
  status: r.status,
  created_at: r.created_at,
});

async function compareSources(
  d: CompareDeps,
  from: DeploymentRow,
  to: DeploymentRow,
): Promise<DeploymentComparison['source']> {
  for (const r of [from, to]) {
    if (r.source_path) continue;
    const reason = r.image_ref
      ? `#${r.number} deployed the prebuilt image ${r.image_ref}, which has no source`
      : `the source of #${r.number} is no longer kept (SLIPWAY_SOURCE_RETENTION)`;
    return { available: false, reason };
  }
  if (from.source_path === to.source_path || from.source_sha256 === to.source_sha256) {
    const same = await diffSources(d.sources.absolute(to.source_path!), d.sources.absolute(to.source_path!));
    return { available: true, added: [], removed: [], changed: [], unchanged: same.unchanged };
  }
  return {
    available: true,
    ...(await diffSources(d.sources.absolute(from.source_path!), d.sources.absolute(to.source_path!))),
  };
}

function compareEnv(
  d: CompareDeps,
  projectId: string,
  from: DeploymentRow,
  to: DeploymentRow,
): DeploymentComparison['env'] {
  for (const r of [from, to]) {
    if (!r.env_snapshot) return { available: false, reason: `#${r.number} never started, so it has no recorded env` };
  }
  const a = d.openSnapshot(projectId, from.env_snapshot!);
  const b = d.openSnapshot(projectId, to.env_snapshot!);
  const has = (env: Record<string, string>, key: string) => Object.hasOwn(env, key);
  return {
    available: true,
    added: Object.keys(b)
      .filter((k) => !has(a, k))
      .sort(),
    removed: Object.keys(a)
      .filter((k) => !has(b, k))
      .sort(),
    changed: Object.keys(b)
      .filter((k) => has(a, k) && a[k] !== b[k])
      .sort(),
  };
}

function compareSettings(from: DeploymentRow, to: DeploymentRow): DeploymentComparison['settings'] {
  const a = readSettings(from.settings_snapshot);
  const b = readSettings(to.settings_snapshot);
  if (!a || !b) {
    const r = a ? to : from;
    return { available: false, reason: `#${r.number} was queued before Slipway recorded settings with deployments` };
  }
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const changed = names
    .map((name) => ({
      name,
      from: (a as unknown as Record<string, unknown>)[name] ?? null,
      to: (b as unknown as Record<string, unknown>)[name] ?? null,
    }))
    .filter((c) => JSON.stringify(c.from) !== JSON.stringify(c.to));
  return { available: true, changed };
}

function imageSide(r: DeploymentRow): ImageSide {
  return {
    ref: r.image_ref,
    digest: r.image_digest,
    tag: r.image_tag,
    id: r.image_id,
    stack: r.stack,
    exposed_port: r.exposed_port,
  };
}

/** Pulled images are told apart by digest (each pull is stamped into a new image), built ones by image id. */
function imageChanged(from: DeploymentRow, to: DeploymentRow): boolean {
  if (from.image_digest && to.image_digest) return from.image_digest !== to.image_digest;
  if (from.image_id && to.image_id) return from.image_id !== to.image_id;
  return from.image_ref !== to.image_ref || from.image_tag !== to.image_tag;
}
