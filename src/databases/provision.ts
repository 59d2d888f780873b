import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { ConflictError } from '../errors.ts';
import { lastLogLines } from '../runtime/health.ts';
import { runCommand } from './exec.ts';
import { ensureImage } from './image.ts';
import { inspectDatabase } from './inspect.ts';
import { waitUntilReady } from './readiness.ts';
import { DATABASE_SUPERUSER, prepareRoles, superuserOf } from './roles.ts';
import {
  DATABASE_CAPABILITIES,
  DATABASE_DATA_DIR,
  DATABASE_PIDS_LIMIT,
  DEFAULT_DATABASE_MEMORY_MB,
  databaseContainerName,
  databaseIdentity,
  databaseLabels,
  databaseVolumeName,
  type DatabaseInfo,
  type DatabaseSpec,
} from './spec.ts';
import { labelOf } from '../runtime/labels.ts';

/** How long a provisioning may take, and a signal that stops it. */
export interface ProvisionOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Creates and starts a project's Postgres and resolves once it accepts password connections over
 * TCP, as the app will make them. The container (`slipway-<project>-db`, alias `db`) is attached
 * only to the project's network and publishes no port; the cluster lives in the named volume
 * `slipway-<project>-pgdata`. The app's role is no superuser (see roles.ts). An existing volume (a
 * database whose container went missing) is reused, and its role gets `spec.password`. On failure,
 * timeout or abort nothing is left behind except such a pre-existing volume. Throws ConflictError
 * if the project already has a container.
 */
export async function provisionDatabase(
  docker: Docker,
  spec: DatabaseSpec,
  opts: ProvisionOptions,
): Promise<DatabaseInfo> {
  const signal = AbortSignal.any([opts.signal ?? new AbortController().signal, AbortSignal.timeout(opts.timeoutMs)]);
  const name = databaseContainerName(spec.project);
  if (await exists(docker.getContainer(name).inspect())) {
    throw new ConflictError(`Cannot provision a database for "${spec.project}": it already has one`);
  }
  await ensureImage(docker, spec.image, signal);
  const existing = await ensureVolume(docker, spec);
  const reused = existing !== null;
  const superuser = existing ? superuserOf(existing.Labels, databaseIdentity(spec.project).user) : DATABASE_SUPERUSER;
  let container: Docker.Container | undefined;
  try {
    container = await createContainer(docker, spec, superuser);
    await container.start();
    await waitUntilReady(docker, container.id, spec.project, signal);
    // Also gives a reused cluster the new password, in place of the one it was initialised with.
    await prepareRoles(docker, container.id, { ...databaseIdentity(spec.project), superuser }, spec.password);
    await verifyLogin(docker, container.id, spec);
  } catch (err) {
    const logs = container ? await lastLogLines(docker, container.id) : [];
    await container?.remove({ force: true, v: false }).catch(() => {});
    if (!reused)
      await docker
        .getVolume(databaseVolumeName(spec.project))
        .remove()
        .catch(() => {});
    if ((err as { statusCode?: number }).statusCode === 409) {
      throw new ConflictError(`Cannot provision a database for "${spec.project}": ${(err as Error).message}`);
    }
    const reason =
      signal.aborted && !opts.signal?.aborted
        ? `it was not ready within ${opts.timeoutMs / 1000} s`
        : (err as Error).message;
    throw new Error(
      `Cannot provision a database for "${spec.project}": ${reason}${logs.length ? `\n${logs.join('\n')}` : ''}`,
    );
  }
  const info = await inspectDatabase(
    docker,
    { agentId: spec.agentId, containerId: container.id, imageId: null },
    spec.project,
  );
  if (!info) throw new Error(`The database of "${spec.project}" vanished right after it started`);
  return info;
}

/** Creates the volume, or reuses this agent's existing one, which it returns (null for a new one). */
export async function ensureVolume(docker: Docker, spec: DatabaseSpec): Promise<Docker.VolumeInspectInfo | null> {
  const name = databaseVolumeName(spec.project);
  const volume = await docker
    .getVolume(name)
    .inspect()
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode === 404) return null;
      throw err;
    });
  if (volume) {
    if (labelOf(volume.Labels, 'agent') !== spec.agentId || labelOf(volume.Labels, 'role') !== 'database') {
      throw new ConflictError(
        `Cannot provision a database for "${spec.project}": a volume named ${name} exists and is not this agent's`,
      );
    }
    return volume;
  }
  await docker.createVolume({
    Name: name,
    Labels: { ...spec.labels, ...databaseLabels(spec.agentId, spec.project, DATABASE_SUPERUSER) },
  });
  return null;
}

function createContainer(docker: Docker, spec: DatabaseSpec, superuser: string): Promise<Docker.Container> {
  const { database } = databaseIdentity(spec.project);
  const memory = (spec.memoryMb ?? DEFAULT_DATABASE_MEMORY_MB) * 1024 * 1024;
  return docker.createContainer({
    name: databaseContainerName(spec.project),
    Image: spec.image,
    // The official image's interface, used only when the cluster is initialised. The image insists
    // on a superuser password; it gets one nobody knows, and prepareRoles removes it.
    Env: [
      `POSTGRES_PASSWORD=${randomBytes(24).toString('base64url')}`,
      `POSTGRES_USER=${DATABASE_SUPERUSER}`,
      `POSTGRES_DB=${database}`,
    ],
    Labels: { ...spec.labels, ...databaseLabels(spec.agentId, spec.project, superuser) },
    // Time for a clean shutdown checkpoint before Docker kills it.
    StopTimeout: 30,
    HostConfig: {
      NetworkMode: spec.network,
      Mounts: [{ Type: 'volume', Source: databaseVolumeName(spec.project), Target: DATABASE_DATA_DIR }],
      Memory: memory,
      MemorySwap: memory,
      PidsLimit: DATABASE_PIDS_LIMIT,
      // Postgres' parallel queries use /dev/shm; Docker's 64 MiB default is tight.
      ShmSize: 128 * 1024 * 1024,
      SecurityOpt: ['no-new-privileges'],
      CapDrop: ['ALL'],
      CapAdd: DATABASE_CAPABILITIES,
      Privileged: false,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      RestartPolicy: { Name: 'unless-stopped' },
    },
    NetworkingConfig: { EndpointsConfig: { [spec.network]: { Aliases: ['db'] } } },
  });
}

/** Logs in over TCP with the password, exactly as the app will; a wrong password fails here. */
export async function verifyLogin(docker: Docker, containerId: string, spec: DatabaseSpec): Promise<void> {
  const { user, database } = databaseIdentity(spec.project);
  const result = await runCommand(
    docker,
    containerId,
    ['psql', '-X', '-q', '-A', '-t', '-h', '127.0.0.1', '-U', user, '-d', database, '-c', 'SELECT 1'],
    { env: [`PGPASSWORD=${spec.password}`, 'PGCONNECT_TIMEOUT=5'], user: 'postgres' },
  );
  if (result.exitCode !== 0 || result.stdout.trim() !== '1') {
    throw new Error(
      `logging in with the password failed: ${result.stderr || `psql exited with code ${result.exitCode}`}`,
    );
  }
}

async function exists(inspection: Promise<unknown>): Promise<boolean> {
  try {
    await inspection;
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}
