/** What a project's database is made of: the types, names and labels every databases/ file shares. */
import { databaseLabels as labelsOfDatabase, labelFilter } from '../runtime/labels.ts';

/** What to provision. `labels` are extra labels (e.g. a test's), never overriding Slipway's own. */
export interface DatabaseSpec {
  agentId: string;
  project: string;
  image: string;
  network: string;
  password: string;
  /** Memory limit in MiB; DEFAULT_DATABASE_MEMORY_MB when absent. */
  memoryMb?: number;
  labels?: Record<string, string>;
}

/**
 * A database as Docker shows it. `status` is `starting` while the container runs but does not
 * accept connections (yet, or at the moment), `stopped` when the container is not running, and
 * `missing` when the volume survives without its container (`containerId` is then null).
 * `version` and `sizeBytes` are null unless the server answered.
 */
export interface DatabaseInfo {
  containerId: string | null;
  /** The image id of the container, recorded with its id so a lookup can check both. */
  imageId: string | null;
  volume: string;
  host: string;
  port: typeof DATABASE_PORT;
  database: string;
  user: string;
  /** The role Slipway uses through `docker exec`; the app's own in a cluster made before the roles were split. */
  superuser: string;
  status: DatabaseStatus;
  version: string | null;
  sizeBytes: number | null;
}

/** See DatabaseInfo.status. */
export type DatabaseStatus = 'starting' | 'running' | 'stopped' | 'missing';

/** Where every Postgres listens, inside the project network only. */
export const DATABASE_PORT = 5432;

/** The official image's data directory; the volume is mounted there. */
export const DATABASE_DATA_DIR = '/var/lib/postgresql/data';

/** Memory limit of a database container unless the spec says otherwise, MiB. */
export const DEFAULT_DATABASE_MEMORY_MB = 512;

/** The most processes a database container may run: 100 connections plus Postgres' own workers. */
export const DATABASE_PIDS_LIMIT = 256;

/** Capabilities a database container keeps: what the official image's entrypoint needs to chown the
 * data directory and drop root (gosu); everything else is dropped. */
export const DATABASE_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'];

/** The container's name, which is also its DNS name on the project network. */
export function databaseContainerName(project: string): string {
  return `slipway-${project}-db`;
}

/** The named volume that holds the cluster. */
export function databaseVolumeName(project: string): string {
  return `slipway-${project}-pgdata`;
}

/**
 * The role and database of every project: `app`. The project name would be friendlier, but it can
 * be one Postgres refuses or already has (`pg-admin` → role `pg_admin`, `template1`, `postgres`);
 * each database has its own server anyway, and DATABASE_URL carries the names.
 */
export function databaseIdentity(_project: string): { user: string; database: string } {
  return { user: 'app', database: 'app' };
}

/**
 * Labels of a project's database container and volume; the identity is kept for inspection, and
 * the superuser Slipway uses (DATABASE_SUPERUSER, or the app's role in a cluster made before).
 */
export function databaseLabels(agentId: string, project: string, superuser: string): Record<string, string> {
  return labelsOfDatabase(agentId, project, { ...databaseIdentity(project), superuser });
}

/** Docker label filters that find exactly this agent's database objects of one project. */
export function databaseFilters(agentId: string, project: string): { label: string[] } {
  return {
    label: labelFilter({ role: 'database', agent: agentId, project }),
  };
}
