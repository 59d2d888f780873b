import { ConflictError, ValidationError } from '../errors.ts';

/**
 * A project's ceiling, set by an admin: at most `instances` instances, and `memory_mb` MiB and
 * `cpus` cores in all (instances × the per-instance limit). Deploy tokens size a project within it.
 * `volume_mb` limits each of its volumes (null: no limit), where the engine can enforce it.
 */
export interface Quota {
  instances: number;
  memory_mb: number;
  cpus: number;
  volume_mb: number | null;
}

/** The quota of a new project: room for a small app to scale out on a VPS, not for all of it. */
export const DEFAULT_QUOTA: Quota = { instances: 10, memory_mb: 8192, cpus: 10, volume_mb: null };

/** What a project's size settings add up to. */
export interface Size {
  instances: number;
  memory_mb: number;
  cpus: number;
}

const totals = (s: Size) => ({
  instances: s.instances,
  memory_mb: s.instances * s.memory_mb,
  cpus: s.instances * s.cpus,
});

// CPU limits are decimals (0.05 steps); compare with a little room for binary fractions.
const over = (value: number, limit: number) => value > limit + 1e-9;

/**
 * Refuses (422) a change of size that goes past the quota. A project already past it (its quota
 * was lowered, or it predates quotas) may still shrink or keep its size; it may not grow.
 */
export function checkQuota(project: string, current: Size, next: Size, quota: Size): void {
  const now = totals(current);
  const want = totals(next);
  const issues = (Object.keys(want) as (keyof Size)[])
    .filter((k) => over(want[k], quota[k]) && want[k] > now[k])
    .map((k) => ({
      path: k === 'instances' ? '/instances' : `/${k}`,
      message: `${describe(k, want[k])} is past the quota of ${describe(k, quota[k])}`,
    }));
  if (issues.length === 0) return;
  throw new ValidationError(
    `Cannot size "${project}" past its quota (${issues.map((i) => i.message).join('; ')}); an admin can raise it with PUT /v1/projects/${project}/quota`,
    issues,
  );
}

/** Refuses (409) a quota below what the project uses now. */
export function checkQuotaFits(project: string, current: Size, quota: Size): void {
  const now = totals(current);
  const short = (Object.keys(now) as (keyof Size)[]).filter((k) => over(now[k], quota[k]));
  if (short.length === 0) return;
  throw new ConflictError(
    `Cannot lower the quota of "${project}" below what it uses (${short.map((k) => describe(k, now[k])).join(', ')}); scale it down first`,
  );
}

function describe(key: keyof Size, value: number): string {
  if (key === 'instances') return `${value} instance${value === 1 ? '' : 's'}`;
  if (key === 'memory_mb') return `${value} MiB in all`;
  return `${Number(value.toFixed(2))} CPUs in all`;
}
