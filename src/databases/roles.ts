import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { runCommand } from './exec.ts';
import { labelOf } from '../runtime/labels.ts';

/**
 * The roles of a project's Postgres. The app connects as its own role (`app`): it owns its database
 * and schema `public` and nothing else; it is NOSUPERUSER NOCREATEROLE NOCREATEDB, so it cannot make
 * itself or anyone a superuser, run programs (`COPY … TO PROGRAM`), or read the server's files. The
 * cluster's superuser (`postgres`) has no password: nobody logs in as it over TCP. Slipway reaches
 * it only through `docker exec` and the container's local socket, for status and dumps.
 */
export const DATABASE_SUPERUSER = 'postgres';

/** Who is who in one database: the app's role, its database, and the superuser Slipway uses. */
export interface DatabaseRoles {
  user: string;
  database: string;
  superuser: string;
}

/**
 * The superuser of a database, from its container's or volume's labels. A cluster made before
 * the app got its own role carries no such label: its only role is the app's, a superuser.
 */
export function superuserOf(labels: Record<string, string> | undefined | null, user: string): string {
  return labelOf(labels, 'databaseSuperuser') ?? user;
}

/** True for a database whose app role is the cluster's superuser (one made before the roles were split). */
export function appIsSuperuser(roles: DatabaseRoles): boolean {
  return roles.superuser === roles.user;
}

/**
 * Environment for a superuser session in a database the app owns: only pg_catalog on the search
 * path, so a function or operator the app planted in `public` never runs with superuser rights.
 */
export const SUPERUSER_SESSION_ENV = ['PGOPTIONS=-c search_path=pg_catalog'];

/**
 * Makes the app's role what it must be, as the superuser over the local socket: it exists, logs in
 * with `password`, has no power beyond its database (which it owns, with schema public), and the
 * superuser has no password. Idempotent, so it also repairs a reused volume. For a cluster whose
 * superuser is the app's role (see appIsSuperuser) it only sets the password: such a role cannot be
 * demoted in place (it is the bootstrap superuser, which owns the system catalogs).
 * The statements go in on stdin, so the password is in no command line.
 */
export async function prepareRoles(
  docker: Docker,
  containerId: string,
  roles: DatabaseRoles,
  password: string,
): Promise<void> {
  const user = quoteIdent(roles.user);
  const sql = appIsSuperuser(roles)
    ? `ALTER ROLE ${user} WITH PASSWORD ${quoteLiteral(password)};\n`
    : `DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(roles.user)}) THEN
    CREATE ROLE ${user};
  END IF;
  IF EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'public') THEN
    ALTER SCHEMA public OWNER TO ${user};
  END IF;
END $$;
ALTER ROLE ${user} WITH LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS PASSWORD ${quoteLiteral(password)};
ALTER DATABASE ${quoteIdent(roles.database)} OWNER TO ${user};
ALTER ROLE ${quoteIdent(roles.superuser)} WITH PASSWORD NULL;
`;
  const result = await runCommand(
    docker,
    containerId,
    ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-U', roles.superuser, '-d', roles.database],
    { user: 'postgres', env: SUPERUSER_SESSION_ENV, input: Readable.from([sql]) },
  );
  // Not psql's stderr: a statement error quotes the statement, password included.
  if (result.exitCode !== 0)
    throw new Error(`setting up the role "${roles.user}" failed (psql exited with code ${result.exitCode})`);
}

/** An SQL identifier in double quotes. */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** An SQL string literal; with standard_conforming_strings (on since 9.1) backslashes are plain. */
function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
