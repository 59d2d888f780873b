import type { ProjectRepo, ProjectRow } from '../db/projects.ts';
import { NotFoundError } from '../errors.ts';

/** The project named `name`, or a 404 saying there is none; every service looks projects up this way. */
export function findProject(repo: Pick<ProjectRepo, 'findByName'>, name: string): ProjectRow {
  const row = repo.findByName(name);
  if (!row) throw new NotFoundError(`No project named "${name}"`);
  return row;
}
