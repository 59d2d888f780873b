import type Docker from 'dockerode';
import { runCommand } from './exec.ts';
import {
  DATABASE_PORT,
  databaseContainerName,
  databaseFilters,
  databaseIdentity,
  databaseVolumeName,
  type DatabaseInfo,
  type DatabaseStatus,
} from './spec.ts';
import { labelOf } from '../runtime/labels.ts';
import { SUPERUSER_SESSION_ENV, superuserOf } from './roles.ts';

/**
 * Which container is a project's database: the one Slipway recorded when it created it (its id and
 * image), never one found by labels, which an image or a build can set. `containerId` is null for
 * a database recorded before ids were (found then by its name, which only Slipway gives).
 */
export interface DatabaseRef {
  agentId: string;
  containerId: string | null;
  imageId: string | null;
}

/** A project's database container as Slipway found it. */
export interface FoundContainer {
  Id: string;
  Image: string;
  State: string;
  Labels: Record<string, string>;
}

/** The project's database container, if it still exists and is the one recorded. */
export async function findDatabaseContainer(
  docker: Docker,
  ref: DatabaseRef,
  project: string,
): Promise<FoundContainer | null> {
  const info = await docker
    .getContainer(ref.containerId ?? databaseContainerName(project))
    .inspect()
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode === 404) return null;
      throw err;
    });
  if (!info) return null;
  const labels = info.Config.Labels ?? {};
  const ours =
    info.Name === `/${databaseContainerName(project)}` &&
    (ref.imageId === null || info.Image === ref.imageId) &&
    labelOf(labels, 'agent') === ref.agentId &&
    labelOf(labels, 'role') === 'database';
  return ours ? { Id: info.Id, Image: info.Image, State: info.State.Status, Labels: labels } : null;
}

/** This agent's database volume of a project, if there is one (only Slipway names volumes). */
export async function findDatabaseVolume(
  docker: Docker,
  ref: DatabaseRef,
  project: string,
): Promise<Docker.VolumeInspectInfo | null> {
  const { Volumes: volumes } = await docker.listVolumes({ filters: databaseFilters(ref.agentId, project) });
  return (volumes ?? []).find((v) => v.Name === databaseVolumeName(project)) ?? null;
}

/**
 * What Docker and the server say about a project's database, or null when it has neither a
 * container nor a volume. Version and size come from the server itself (through the container's
 * local socket), so they are null unless it accepts connections.
 */
export async function inspectDatabase(docker: Docker, ref: DatabaseRef, project: string): Promise<DatabaseInfo | null> {
  const [container, volume] = await Promise.all([
    findDatabaseContainer(docker, ref, project),
    findDatabaseVolume(docker, ref, project),
  ]);
  if (!container && !volume) return null;
  const labels = container?.Labels ?? volume?.Labels ?? {};
  const fallback = databaseIdentity(project);
  const user = labelOf(labels, 'databaseUser') ?? fallback.user;
  const info: DatabaseInfo = {
    containerId: container?.Id ?? null,
    imageId: container?.Image ?? null,
    volume: databaseVolumeName(project),
    host: databaseContainerName(project),
    port: DATABASE_PORT,
    database: labelOf(labels, 'databaseName') ?? fallback.database,
    user,
    superuser: superuserOf(labels, user),
    status: 'missing',
    version: null,
    sizeBytes: null,
  };
  if (!container) return info;
  if (container.State !== 'running' && container.State !== 'restarting') return { ...info, status: 'stopped' };
  const stats =
    container.State === 'running' ? await serverStats(docker, container.Id, info.superuser, info.database) : null;
  const status: DatabaseStatus = stats ? 'running' : 'starting';
  return { ...info, status, version: stats?.version ?? null, sizeBytes: stats?.sizeBytes ?? null };
}

/** `postgres://user:password@host:5432/database` for the app; every part is URL-encoded. */
export function databaseUrl(info: Pick<DatabaseInfo, 'user' | 'host' | 'port' | 'database'>, password: string): string {
  const user = encodeURIComponent(info.user);
  return `postgres://${user}:${encodeURIComponent(password)}@${info.host}:${info.port}/${encodeURIComponent(info.database)}`;
}

/** The server's version (e.g. `15.18 (Debian 15.18-0+deb12u1)`) and the database's size on disk. */
export async function serverStats(
  docker: Docker,
  containerId: string,
  superuser: string,
  database: string,
): Promise<{ version: string; sizeBytes: number } | null> {
  const sql = "SELECT current_setting('server_version'), pg_database_size(current_database())";
  const result = await runCommand(
    docker,
    containerId,
    ['psql', '-X', '-q', '-A', '-t', '-F', '\t', '-U', superuser, '-d', database, '-c', sql],
    {
      user: 'postgres',
      env: ['PGCONNECT_TIMEOUT=5', ...SUPERUSER_SESSION_ENV],
    },
  ).catch(() => null);
  const [version, size] = result?.exitCode === 0 ? result.stdout.trim().split('\t') : [];
  if (!version || !size || !/^\d+$/.test(size)) return null;
  return { version, sizeBytes: Number(size) };
}
