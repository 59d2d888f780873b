import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.ts';
import { runCommand, streamCommand } from './exec.ts';
import { type DatabaseRef, type FoundContainer, findDatabaseContainer } from './inspect.ts';
import { databaseIdentity } from './spec.ts';
import { labelOf } from '../runtime/labels.ts';
import { SUPERUSER_SESSION_ENV, superuserOf, type DatabaseRoles } from './roles.ts';

/**
 * A `pg_dump -Fc` (custom format, what pg_restore takes) of a project's database, streamed from
 * the container as it is produced: nothing is buffered beyond the stream's high-water mark. It
 * resolves once the first bytes arrived, so a dump that cannot start rejects (with pg_dump's
 * message) before anything was sent; a failure later fails the stream instead of ending it.
 * Destroying the stream early (a client that went away) also stops pg_dump.
 */
export async function dumpDatabase(docker: Docker, ref: DatabaseRef, project: string): Promise<Readable> {
  return dumpFrom(docker, await findDatabaseContainer(docker, ref, project), project);
}

/** dumpDatabase from a database container already found (null: there is none), such as a Swarm task's. */
export async function dumpFrom(docker: Docker, container: FoundContainer | null, project: string): Promise<Readable> {
  const { id, ...roles } = runningDatabase(container, project, 'dump');
  // A name of our own making, to find pg_dump's session again if the reader goes away.
  const session = `slipway-dump-${randomUUID()}`;
  // As the superuser, which reads everything; pg_dump pins its own search path.
  const output = await streamCommand(
    docker,
    id,
    [
      'pg_dump',
      '-Fc',
      '--no-password',
      `--lock-wait-timeout=${LOCK_WAIT}`,
      '-U',
      roles.superuser,
      '-d',
      roles.database,
    ],
    { user: 'postgres', env: [`PGAPPNAME=${session}`] },
  );
  output.once('close', () => {
    if (!output.readableEnded) void terminateSession(docker, id, roles, session);
  });
  try {
    await output.started;
  } catch (err) {
    output.destroy();
    throw new Error(`Cannot dump the database of "${project}": ${(err as Error).message}`);
  }
  return output;
}

/**
 * Restores a custom-format dump into a project's database with `pg_restore --clean --if-exists`,
 * fed through the command's stdin. It runs as the app's own role, never the superuser: a dump is
 * SQL written by whoever made it, so it may do only what the app may (a dump that needs a
 * superuser is refused). Ownership and grants in the dump are skipped (the project's role owns
 * everything, as on Heroku), and it runs in a single transaction: a failing restore changes
 * nothing. Throws BadRequestError with pg_restore's own message when the dump is rejected.
 */
export async function restoreDatabase(
  docker: Docker,
  ref: DatabaseRef,
  project: string,
  dump: Readable,
): Promise<void> {
  return restoreInto(docker, await findDatabaseContainer(docker, ref, project), project, dump);
}

/** restoreDatabase into a database container already found (null: there is none), such as a Swarm task's. */
export async function restoreInto(
  docker: Docker,
  container: FoundContainer | null,
  project: string,
  dump: Readable,
): Promise<void> {
  const { id, user, database } = runningDatabase(container, project, 'restore');
  const cmd = [
    'pg_restore',
    '--clean',
    '--if-exists',
    '--no-owner',
    '--no-privileges',
    '--single-transaction',
    '--exit-on-error',
  ];
  const result = await runCommand(docker, id, [...cmd, '--no-password', '-U', user, '-d', database], {
    user: 'postgres',
    input: dump,
  });
  if (result.exitCode !== 0) {
    throw new BadRequestError(
      `Cannot restore the database of "${project}": ${result.stderr || `pg_restore exited with code ${result.exitCode}`}`,
    );
  }
}

/** How long pg_dump waits for a table lock held by someone else (e.g. a migration) before it gives up. */
const LOCK_WAIT = '60s';

/**
 * Docker keeps draining an exec whose client left, so an abandoned pg_dump would run to the end,
 * holding its snapshot all along; ending its server session makes it exit at once.
 */
async function terminateSession(
  docker: Docker,
  containerId: string,
  roles: DatabaseRoles,
  session: string,
): Promise<void> {
  // pg_dump's session is the superuser's, which only a superuser may end.
  const sql = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${session}'`;
  await runCommand(docker, containerId, ['psql', '-X', '-q', '-U', roles.superuser, '-d', roles.database, '-c', sql], {
    user: 'postgres',
    env: SUPERUSER_SESSION_ENV,
  }).catch(() => {});
}

function runningDatabase(
  container: FoundContainer | null,
  project: string,
  action: string,
): { id: string } & DatabaseRoles {
  if (!container) throw new NotFoundError(`Project "${project}" has no database`);
  if (container.State !== 'running')
    throw new ConflictError(`Cannot ${action} the database of "${project}": it is not running`);
  const fallback = databaseIdentity(project);
  const user = labelOf(container.Labels, 'databaseUser') ?? fallback.user;
  return {
    id: container.Id,
    user,
    database: labelOf(container.Labels, 'databaseName') ?? fallback.database,
    superuser: superuserOf(container.Labels, user),
  };
}
