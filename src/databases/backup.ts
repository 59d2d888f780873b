import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.ts';
import { runCommand, streamCommand } from './exec.ts';
import { findDatabaseContainer } from './inspect.ts';
import { databaseIdentity } from './spec.ts';
import { labelOf } from '../runtime/labels.ts';

/**
 * A `pg_dump -Fc` (custom format, what pg_restore takes) of a project's database, streamed from
 * the container as it is produced: nothing is buffered beyond the stream's high-water mark. It
 * resolves once the first bytes arrived, so a dump that cannot start rejects (with pg_dump's
 * message) before anything was sent; a failure later fails the stream instead of ending it.
 * Destroying the stream early (a client that went away) also stops pg_dump.
 */
export async function dumpDatabase(docker: Docker, agentId: string, project: string): Promise<Readable> {
  const { id, user, database } = await runningDatabase(docker, agentId, project, 'dump');
  // A name of our own making, to find pg_dump's session again if the reader goes away.
  const session = `slipway-dump-${randomUUID()}`;
  const output = await streamCommand(
    docker,
    id,
    ['pg_dump', '-Fc', '--no-password', `--lock-wait-timeout=${LOCK_WAIT}`, '-U', user, '-d', database],
    { user: 'postgres', env: [`PGAPPNAME=${session}`] },
  );
  output.once('close', () => {
    if (!output.readableEnded) void terminateSession(docker, id, user, database, session);
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
 * fed through the command's stdin. Ownership and grants in the dump are skipped (the project's role
 * owns everything, as on Heroku), and it runs in a single transaction: a failing restore changes
 * nothing. Throws BadRequestError with pg_restore's own message when the dump is rejected.
 */
export async function restoreDatabase(docker: Docker, agentId: string, project: string, dump: Readable): Promise<void> {
  const { id, user, database } = await runningDatabase(docker, agentId, project, 'restore');
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
  user: string,
  database: string,
  session: string,
): Promise<void> {
  const sql = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${session}'`;
  await runCommand(docker, containerId, ['psql', '-X', '-q', '-U', user, '-d', database, '-c', sql], {
    user: 'postgres',
  }).catch(() => {});
}

async function runningDatabase(
  docker: Docker,
  agentId: string,
  project: string,
  action: string,
): Promise<{ id: string; user: string; database: string }> {
  const container = await findDatabaseContainer(docker, agentId, project);
  if (!container) throw new NotFoundError(`Project "${project}" has no database`);
  if (container.State !== 'running')
    throw new ConflictError(`Cannot ${action} the database of "${project}": it is not running`);
  const fallback = databaseIdentity(project);
  return {
    id: container.Id,
    user: labelOf(container.Labels, 'databaseUser') ?? fallback.user,
    database: labelOf(container.Labels, 'databaseName') ?? fallback.database,
  };
}
