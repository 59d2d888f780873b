import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { dumpDatabase, restoreDatabase } from '../../src/databases/backup.ts';
import { dropDatabase } from '../../src/databases/drop.ts';
import { runCommand, streamCommand } from '../../src/databases/exec.ts';
import { inspectDatabase } from '../../src/databases/inspect.ts';
import { DATABASE_SUPERUSER } from '../../src/databases/roles.ts';
import type { DatabaseInfo } from '../../src/databases/spec.ts';
import { BadRequestError } from '../../src/errors.ts';
import { cleanupByLabel, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';
import { collect, provisionForTest, psql, psqlOverTcp, uniqueProject, type Scope, scopeOf } from './harness.ts';

const hasDocker = await requireDocker();
const docker = dockerClient();
const labels = testLabel();
const scope: Scope = scopeOf(`agent-${randomUUID()}`, labels);
const project = uniqueProject('roles');
const password = `pw-${randomUUID()}`;
let info: DatabaseInfo;

beforeAll(async () => {
  if (!hasDocker) return;
  info = await provisionForTest(docker, scope, project, password);
}, 90_000);

afterAll(async () => {
  if (!hasDocker) return;
  await dropDatabase(docker, scope.ref, project).catch(() => {});
  await cleanupByLabel(docker, labels['slipway.test']);
});

const asSuperuser = (sql: string) => psql(docker, info, sql, DATABASE_SUPERUSER);
const asApp = (sql: string) => psqlOverTcp(docker, info, { user: info.user, password }, sql);

/** What the app tries with its DATABASE_URL, and the error Postgres must answer. */
const ATTACKS: [string, RegExp][] = [
  ['ALTER ROLE app SUPERUSER', /must be superuser to alter superuser roles|permission denied to alter role/],
  ['ALTER ROLE app CREATEROLE', /permission denied|must be superuser/],
  [
    "COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned'",
    /must be superuser or have privileges of the pg_execute_server_program role/,
  ],
  ["COPY (SELECT 1) TO '/tmp/pwned'", /must be superuser or have privileges of the pg_write_server_files role/],
  ["SELECT pg_read_file('/etc/passwd')", /permission denied for function pg_read_file/],
  ['CREATE ROLE intruder', /permission denied to create role/],
  ['CREATE ROLE intruder SUPERUSER LOGIN', /permission denied to create role|must be superuser to create superusers/],
  [`ALTER ROLE ${DATABASE_SUPERUSER} PASSWORD 'known'`, /must be superuser|permission denied to alter role/],
  ['CREATE DATABASE other', /permission denied to create database/],
  ['CREATE EXTENSION file_fdw', /permission denied to create extension "file_fdw"/],
];

describe.skipIf(!hasDocker)("the app's Postgres role", () => {
  test('owns its database and schema public, and is no superuser, role creator or database creator', async () => {
    expect(info.superuser).toBe(DATABASE_SUPERUSER);
    expect(info.user).not.toBe(DATABASE_SUPERUSER);
    expect(
      await asSuperuser(
        `SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = '${info.user}'`,
      ),
    ).toBe('f|f|f|f|f|t');
    expect(
      await asSuperuser(`SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '${info.database}'`),
    ).toBe(info.user);
    expect(await asSuperuser("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'")).toBe(
      info.user,
    );
  });

  for (const [sql, error] of ATTACKS) {
    test(`as the app, "${sql}" fails`, async () => {
      const result = await asApp(sql);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toMatch(error);
    });
  }

  test('after every attack the server is as it was, and the app still works in its own database', async () => {
    expect(
      await asSuperuser(
        "SELECT count(*) FROM pg_roles WHERE rolname = 'intruder' OR rolsuper AND rolname <> 'postgres'",
      ),
    ).toBe('0');
    expect(await asSuperuser("SELECT count(*) FROM pg_database WHERE datname = 'other'")).toBe('0');
    const touched = await runCommand(docker, info.containerId!, ['test', '-e', '/tmp/pwned']);
    expect(touched.exitCode).not.toBe(0);
    const work = await asApp('CREATE TABLE own (id int); INSERT INTO own VALUES (1), (2); SELECT sum(id) FROM own');
    expect(work).toMatchObject({ exitCode: 0, stdout: '3\n' });
    expect(await asApp("CREATE EXTENSION pgcrypto; SELECT length(digest('x', 'sha256'))")).toMatchObject({
      exitCode: 0,
      stdout: '32\n',
    });
  });

  test('the superuser cannot log in over TCP, not even with the password the image was initialised with', async () => {
    const env = (await docker.getContainer(info.containerId!).inspect()).Config.Env;
    const initPassword = env.find((e) => e.startsWith('POSTGRES_PASSWORD='))!.slice('POSTGRES_PASSWORD='.length);
    expect(initPassword).not.toBe(password);
    const result = await psqlOverTcp(docker, info, { user: DATABASE_SUPERUSER, password: initPassword }, 'SELECT 1');
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(`password authentication failed for user "${DATABASE_SUPERUSER}"`);
  });

  test('status still reads the version and size through the superuser', async () => {
    const inspected = await inspectDatabase(docker, scope.ref, project);
    expect(inspected).toMatchObject({ status: 'running', superuser: DATABASE_SUPERUSER });
    expect(inspected?.sizeBytes).toBeGreaterThan(0);
  });

  test('a restore runs as the app: what it restores is the app’s, and a dump that needs a superuser is refused', async () => {
    await asApp('CREATE TABLE kept (n int); INSERT INTO kept SELECT generate_series(1, 100)');
    const dump = await collect(await dumpDatabase(docker, scope.ref, project));
    await asApp('DROP TABLE kept');
    await restoreDatabase(docker, scope.ref, project, Readable.from([dump]));
    expect(
      await asSuperuser("SELECT tableowner, (SELECT count(*) FROM kept) FROM pg_tables WHERE tablename = 'kept'"),
    ).toBe(`${info.user}|100`);

    // A dump made elsewhere by a superuser: an untrusted extension and a foreign table that runs a program.
    await asSuperuser('CREATE DATABASE hostile');
    const made = await runCommand(
      docker,
      info.containerId!,
      [
        'psql',
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-U',
        DATABASE_SUPERUSER,
        '-d',
        'hostile',
        '-c',
        "CREATE EXTENSION file_fdw; CREATE SERVER s FOREIGN DATA WRAPPER file_fdw; CREATE FOREIGN TABLE pwn (line text) SERVER s OPTIONS (program 'touch /tmp/pwned')",
      ],
      { user: 'postgres' },
    );
    expect(made).toMatchObject({ exitCode: 0, stderr: '' });
    const hostile = await collect(
      await streamCommand(docker, info.containerId!, ['pg_dump', '-Fc', '-U', DATABASE_SUPERUSER, '-d', 'hostile'], {
        user: 'postgres',
      }),
    );
    const error = await restoreDatabase(docker, scope.ref, project, Readable.from([hostile])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toContain('permission denied to create extension "file_fdw"');
    expect(await asSuperuser("SELECT count(*) FROM pg_extension WHERE extname = 'file_fdw'")).toBe('0');
    expect(await asSuperuser('SELECT count(*) FROM kept')).toBe('100');
  }, 60_000);
});
