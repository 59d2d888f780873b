/**
 * A project's Postgres on Swarm, with the shape of databases/provision.ts, inspect.ts and drop.ts:
 * a one-replica service pinned to a node (by default the manager the agent's engine is, so that
 * `docker exec` for roles, status, dumps and restores keeps working through the local engine), its
 * named volume on that node, on the project's overlay network only. A database is found by its
 * recorded service id, never by labels alone; its container is whichever task runs now.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { ConflictError } from '../../errors.ts';
import { ensureImage } from '../../databases/image.ts';
import { dumpFrom, restoreInto } from '../../databases/backup.ts';
import { type FoundContainer, findDatabaseVolume, serverStats } from '../../databases/inspect.ts';
import { ensureVolume, type ProvisionOptions, verifyLogin } from '../../databases/provision.ts';
import { waitUntilReady } from '../../databases/readiness.ts';
import { DATABASE_SUPERUSER, prepareRoles, superuserOf } from '../../databases/roles.ts';
import { DATABASE_PORT, databaseIdentity, databaseVolumeName, type DatabaseInfo } from '../../databases/spec.ts';
import { labelOf } from '../labels.ts';
import { databaseServiceName, databaseServiceSpec, type SwarmDatabaseSpec } from './database-spec.ts';
import { runningTask, waitForTaskContainer, waitUntilGone } from './database-tasks.ts';

/** Which service is a project's database: the one Slipway recorded when it created it. */
export interface SwarmDatabaseRef {
  agentId: string;
  serviceId: string | null;
}

/** A provisioned database: what Docker shows, and the service id to record. */
export interface SwarmDatabase {
  info: DatabaseInfo;
  serviceId: string;
}

/**
 * Creates the project's database service and resolves once it accepts password connections, as
 * provisionDatabase does on one engine. The node must be this engine's (exec runs through it).
 * On failure nothing is left but a volume that existed before. Throws ConflictError when the
 * project already has a service of that name.
 */
export async function provisionSwarmDatabase(
  docker: Docker,
  spec: SwarmDatabaseSpec,
  opts: ProvisionOptions,
): Promise<SwarmDatabase> {
  const signal = AbortSignal.any([opts.signal ?? new AbortController().signal, AbortSignal.timeout(opts.timeoutMs)]);
  const fail = (reason: string) => new Error(`Cannot provision a database for "${spec.project}": ${reason}`);
  const localNode = ((await docker.info()) as { Swarm?: { NodeID?: string } }).Swarm?.NodeID ?? '';
  const nodeId = spec.nodeId ?? localNode;
  if (!localNode || nodeId !== localNode) {
    throw fail(`it must run on the node of the agent's engine (${localNode || 'none: not in a swarm'}), not ${nodeId}`);
  }
  if (await serviceExists(docker, databaseServiceName(spec.project))) {
    throw new ConflictError(`Cannot provision a database for "${spec.project}": it already has one`);
  }
  await ensureImage(docker, spec.image, signal);
  const existing = await ensureVolume(docker, spec);
  const superuser = existing ? superuserOf(existing.Labels, databaseIdentity(spec.project).user) : DATABASE_SUPERUSER;
  let serviceId: string | undefined;
  try {
    serviceId = ((await docker.createService(databaseServiceSpec(spec, nodeId, superuser))) as { id: string }).id;
    const containerId = await waitForTaskContainer(docker, serviceId, signal);
    await waitUntilReady(docker, containerId, spec.project, signal);
    await prepareRoles(docker, containerId, { ...databaseIdentity(spec.project), superuser }, spec.password);
    await verifyLogin(docker, containerId, spec);
  } catch (err) {
    if (serviceId) await removeService(docker, serviceId);
    if (!existing)
      await docker
        .getVolume(databaseVolumeName(spec.project))
        .remove()
        .catch(() => {});
    if ((err as { statusCode?: number }).statusCode === 409)
      throw new ConflictError(fail((err as Error).message).message);
    throw fail(
      signal.aborted && !opts.signal?.aborted
        ? `it was not ready within ${opts.timeoutMs / 1000} s`
        : (err as Error).message,
    );
  }
  const info = await inspectSwarmDatabase(docker, { agentId: spec.agentId, serviceId }, spec.project);
  if (!info) throw new Error(`The database of "${spec.project}" vanished right after it started`);
  return { info, serviceId };
}

/** The recorded service, if it exists and is this agent's database of the project. */
async function findService(docker: Docker, ref: SwarmDatabaseRef, project: string): Promise<{ ID: string } | null> {
  if (!ref.serviceId) return null;
  const service = (await docker
    .getService(ref.serviceId)
    .inspect()
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode === 404) return null;
      throw err;
    })) as { ID: string; Spec?: { Name?: string; Labels?: Record<string, string> } } | null;
  const labels = service?.Spec?.Labels;
  const ours =
    service?.Spec?.Name === databaseServiceName(project) &&
    labelOf(labels, 'agent') === ref.agentId &&
    labelOf(labels, 'role') === 'database';
  return ours ? service : null;
}

/** The container of the database's running task on this engine, for exec; null while there is none. */
export async function findSwarmDatabaseContainer(
  docker: Docker,
  ref: SwarmDatabaseRef,
  project: string,
): Promise<string | null> {
  return (await taskContainer(docker, ref, project))?.Id ?? null;
}

/** A pg_dump of the database, streamed, as dumpDatabase does on one engine (see databases/backup.ts). */
export async function dumpSwarmDatabase(docker: Docker, ref: SwarmDatabaseRef, project: string): Promise<Readable> {
  return dumpFrom(docker, await taskContainer(docker, ref, project), project);
}

/** Restores a custom-format dump as the app's role, as restoreDatabase does on one engine. */
export async function restoreSwarmDatabase(
  docker: Docker,
  ref: SwarmDatabaseRef,
  project: string,
  dump: Readable,
): Promise<void> {
  return restoreInto(docker, await taskContainer(docker, ref, project), project, dump);
}

async function taskContainer(docker: Docker, ref: SwarmDatabaseRef, project: string): Promise<FoundContainer | null> {
  const service = await findService(docker, ref, project);
  const task = service ? await runningTask(docker, service.ID) : null;
  return task ? { Id: task.containerId, Image: task.imageId, State: 'running', Labels: task.labels } : null;
}

/**
 * What Swarm, the engine and the server say about the database, as inspectDatabase does: null with
 * neither service nor volume; `missing` with the volume alone; `starting` while Swarm has no running
 * task (it restarts a failed one by itself) or the server does not answer yet.
 */
export async function inspectSwarmDatabase(
  docker: Docker,
  ref: SwarmDatabaseRef,
  project: string,
): Promise<DatabaseInfo | null> {
  const [service, volume] = await Promise.all([
    findService(docker, ref, project),
    findDatabaseVolume(docker, { agentId: ref.agentId, containerId: null, imageId: null }, project),
  ]);
  if (!service && !volume) return null;
  const task = service ? await runningTask(docker, service.ID) : null;
  const labels = task?.labels ?? volume?.Labels ?? {};
  const fallback = databaseIdentity(project);
  const user = labelOf(labels, 'databaseUser') ?? fallback.user;
  const info: DatabaseInfo = {
    containerId: task?.containerId ?? null,
    imageId: task?.imageId ?? null,
    volume: databaseVolumeName(project),
    host: databaseServiceName(project),
    port: DATABASE_PORT,
    database: labelOf(labels, 'databaseName') ?? fallback.database,
    user,
    superuser: superuserOf(labels, user),
    status: service ? 'starting' : 'missing',
    version: null,
    sizeBytes: null,
  };
  if (!task) return info;
  const stats = await serverStats(docker, task.containerId, info.superuser, info.database);
  return stats ? { ...info, status: 'running', version: stats.version, sizeBytes: stats.sizeBytes } : info;
}

/** Removes the database's service, waits for its task to stop, then removes the volume, data and all. */
export async function dropSwarmDatabase(docker: Docker, ref: SwarmDatabaseRef, project: string): Promise<void> {
  const service = await findService(docker, ref, project);
  if (service) await removeService(docker, service.ID);
  const volume = await findDatabaseVolume(docker, { agentId: ref.agentId, containerId: null, imageId: null }, project);
  if (volume) {
    await docker
      .getVolume(volume.Name)
      .remove()
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404) throw err;
      });
  }
}

/** Removes a service and waits until its containers on this engine are gone (they hold the volume). */
async function removeService(docker: Docker, serviceId: string): Promise<void> {
  await docker
    .getService(serviceId)
    .remove()
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  await waitUntilGone(docker, serviceId, AbortSignal.timeout(60_000));
}

async function serviceExists(docker: Docker, name: string): Promise<boolean> {
  const services = (await docker.listServices({ filters: { name: [name] } })) as { Spec?: { Name?: string } }[];
  return services.some((s) => s.Spec?.Name === name);
}
