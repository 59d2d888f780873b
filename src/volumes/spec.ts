/**
 * A project's `volumes` setting and the rules it must follow, in one place: what a valid list is,
 * and when several instances may mount the volumes at once.
 */
import type { ProjectRow, VolumeSetting } from '../db/projects.ts';
import { type ErrorIssue, ValidationError } from '../errors.ts';

/** The most volumes one project may have. */
export const MAX_VOLUMES = 10;

/** A volume name: a DNS label, like a project name. */
export const VOLUME_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Where no volume may be mounted: the kernel's and Docker's own file systems and files. */
const RESERVED_TREES = ['/proc', '/sys', '/dev'];
const RESERVED_FILES = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf'];

/** Why `path` cannot be a mount path, or null when it can. */
function mountPathProblem(path: string): string | null {
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (path === '/') return 'must not be / (the whole file system)';
  if (path.length > 255) return 'must be at most 255 characters';
  if (!/^[A-Za-z0-9._@+=,/-]+$/.test(path)) return 'may hold only letters, digits and . _ - @ + = , /';
  const parts = path.slice(1).split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..'))
    return 'must be a clean path: no empty, "." or ".." segments, no trailing /';
  const tree = RESERVED_TREES.find((t) => path === t || path.startsWith(`${t}/`));
  if (tree) return `must not be ${tree} or under it`;
  if (RESERVED_FILES.includes(path)) return `must not be ${path}, which Docker manages`;
  return null;
}

const inside = (child: string, parent: string) => child.startsWith(`${parent}/`);

/**
 * Refuses (422, an issue per problem) a volumes list with bad names or mount paths, a name or
 * path used twice, one path inside another's (the order Docker mounts them in would decide what the
 * app sees), or more than MAX_VOLUMES entries.
 */
export function checkVolumes(project: string, volumes: VolumeSetting[]): void {
  const issues: ErrorIssue[] = [];
  if (volumes.length > MAX_VOLUMES)
    issues.push({ path: '/volumes', message: `At most ${MAX_VOLUMES} volumes, not ${volumes.length}` });
  volumes.forEach((v, i) => {
    if (!VOLUME_NAME.test(v.name))
      issues.push({ path: `/volumes/${i}/name`, message: 'Expected a DNS label: a-z first, then a-z, 0-9 and -' });
    else if (volumes.findIndex((o) => o.name === v.name) < i)
      issues.push({ path: `/volumes/${i}/name`, message: `"${v.name}" appears twice` });
    const problem = mountPathProblem(v.mount_path);
    if (problem) issues.push({ path: `/volumes/${i}/mount_path`, message: `The mount path ${problem}` });
    else if (volumes.findIndex((o) => o.mount_path === v.mount_path) < i)
      issues.push({ path: `/volumes/${i}/mount_path`, message: `"${v.mount_path}" appears twice` });
    else {
      const outer = volumes.find((o) => inside(v.mount_path, o.mount_path));
      if (outer)
        issues.push({
          path: `/volumes/${i}/mount_path`,
          message: `"${v.mount_path}" lies inside "${outer.mount_path}" (volume "${outer.name}")`,
        });
    }
  });
  if (issues.length > 0)
    throw new ValidationError(
      `Cannot set the volumes of "${project}": ${issues.map((i) => i.message).join('; ')}`,
      issues,
    );
}

/**
 * Whether a project's volumes take one writer at a time: it has volumes and did not say they may
 * be shared. Such a project runs one instance, and its rollouts stop the old instance before the
 * new one starts (a short gap instead of two processes writing the same files).
 */
export function exclusiveVolumes(p: Pick<ProjectRow, 'volumes' | 'volumes_shared'>): boolean {
  return p.volumes.length > 0 && !p.volumes_shared;
}

/** Refuses (422) more than one instance for a project whose volumes take one writer at a time. */
export function checkInstancesWithVolumes(
  project: string,
  p: Pick<ProjectRow, 'volumes' | 'volumes_shared' | 'instances'>,
): void {
  if (p.instances <= 1 || !exclusiveVolumes(p)) return;
  throw new ValidationError(
    `Cannot run ${p.instances} instances of "${project}": its volumes are mounted by one instance at a time; ` +
      'set volumes_shared to true if the app can share them (every instance then writes the same files)',
    [{ path: '/instances', message: 'At most 1 while the project has volumes and volumes_shared is false' }],
  );
}

/** Compares two volumes lists entry by entry. */
export function sameVolumes(a: VolumeSetting[], b: VolumeSetting[]): boolean {
  return a.length === b.length && a.every((v, i) => v.name === b[i]!.name && v.mount_path === b[i]!.mount_path);
}
