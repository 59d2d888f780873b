import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Readable } from 'node:stream';
import { dumpDatabase, restoreDatabase } from '../../src/databases/backup.ts';
import { DATABASE_SUPERUSER } from '../../src/databases/roles.ts';
import { dropDatabase } from '../../src/databases/drop.ts';
import { inspectDatabase } from '../../src/databases/inspect.ts';
import { provisionDatabase } from '../../src/databases/provision.ts';
import { waitUntilReady } from '../../src/databases/readiness.ts';
import { superuserWarning } from '../../src/databases/service.ts';
import { databaseContainerName, databaseVolumeName, type DatabaseInfo } from '../../src/databases/spec.ts';
import { databaseRepo } from '../../src/db/databases.ts';
import { agentId } from '../../src/db/meta.ts';
import { makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { cleanupByLabel, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';
import {
  collect,
  createProjectNetwork,
  PG_IMAGE,
  provisionForTest,
  psql,
  psqlOverTcp,
  uniqueProject,
  type Scope,
  scopeOf,
} from './harness.ts';

const hasDocker = await requireDocker();
const docker = dockerClient();
const labels = testLabel();
const t = makeTestApp();
const scope: Scope = scopeOf(agentId(t.deps.db), labels);
const project = uniqueProject('legacy');
const password = 'legacy-password-1';
let network: string;
let info: DatabaseInfo;

/**
 * A database as Slipway made them before the app got its own role: the cluster initialised with
 * POSTGRES_USER=app, so the app's role is its bootstrap superuser, and no superuser label.
 */
async function provisionLegacy(): Promise<void> {
  const oldLabels = {
    ...labels,
    'slipway.agent': scope.agentId,
    'slipway.project': project,
    'slipway.role': 'database',
    'slipway.database.user': 'app',
    'slipway.database.name': 'app',
  };
  await docker.createVolume({ Name: databaseVolumeName(project), Labels: oldLabels });
  const container = await docker.createContainer({
    name: databaseContainerName(project),
    Image: PG_IMAGE,
    Env: [`POSTGRES_PASSWORD=${password}`, 'POSTGRES_USER=app', 'POSTGRES_DB=app'],
    Labels: oldLabels,
    HostConfig: {
      NetworkMode: network,
      Mounts: [{ Type: 'volume', Source: databaseVolumeName(project), Target: '/var/lib/postgresql/data' }],
    },
  });
  await container.start();
  await waitUntilReady(docker, container.id, project, AbortSignal.timeout(60_000));
}

beforeAll(async () => {
  if (!hasDocker) return;
  network = await createProjectNetwork(docker, scope, project);
  await provisionLegacy();
  info = (await inspectDatabase(docker, scope.ref, project))!;
}, 90_000);

afterAll(async () => {
  t.close();
  if (!hasDocker) return;
  await dropDatabase(docker, scope.ref, project).catch(() => {});
  await cleanupByLabel(docker, labels['slipway.test']);
});

describe.skipIf(!hasDocker)('a database made before the app had its own role', () => {
  test('keeps working: status, dump and restore go through its only role', async () => {
    expect(info).toMatchObject({ status: 'running', user: 'app', superuser: 'app' });
    expect(info.version).toMatch(/^\d+\.\d+/);
    await psql(docker, info, 'CREATE TABLE notes (id int); INSERT INTO notes SELECT generate_series(1, 50)');
    const dump = await collect(await dumpDatabase(docker, scope.ref, project));
    await psql(docker, info, 'DELETE FROM notes');
    await restoreDatabase(docker, scope.ref, project, Readable.from([dump]));
    expect(await psql(docker, info, 'SELECT count(*) FROM notes')).toBe('50');
  }, 60_000);

  test('the API warns that its role is a superuser and says how to move to a new one', async () => {
    const p = t.deps.projects.create(TEST_ACTOR, { name: project });
    databaseRepo(t.deps.db).insert({
      project_id: p.id,
      image: PG_IMAGE,
      password: 'v1.not-opened-by-this-route',
      container_id: null,
      image_id: null,
      created_at: new Date().toISOString(),
    });
    const res = await t.req('GET', `/v1/projects/${project}/database`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; warnings: string[] };
    expect(body.status).toBe('running');
    expect(body.warnings).toEqual([superuserWarning(project, 'app')]);
    expect(body.warnings[0]).toContain(`slipway db dump -p ${project}`);
  });

  test('its dump restores into a new database, where the app owns everything and is no superuser', async () => {
    await psql(
      docker,
      info,
      "CREATE EXTENSION pgcrypto; CREATE TYPE mood AS ENUM ('ok', 'sad'); CREATE TABLE diary (id serial PRIMARY KEY, m mood, h bytea DEFAULT digest('x', 'sha256')); INSERT INTO diary (m) VALUES ('ok')",
    );
    const dump = await collect(await dumpDatabase(docker, scope.ref, project));
    const target = uniqueProject('moved');
    try {
      const moved = await provisionForTest(docker, scope, target, 'moved-password');
      await restoreDatabase(docker, scope.ref, target, Readable.from([dump]));
      const owners = await psql(
        docker,
        moved,
        "SELECT string_agg(DISTINCT tableowner, ',') || '|' || (SELECT count(*) FROM notes) || '|' || (SELECT m FROM diary) FROM pg_tables WHERE schemaname = 'public'",
        DATABASE_SUPERUSER,
      );
      expect(owners).toBe('app|50|ok');
      expect(await psql(docker, moved, "SELECT rolsuper FROM pg_roles WHERE rolname = 'app'", DATABASE_SUPERUSER)).toBe(
        'f',
      );
    } finally {
      await dropDatabase(docker, scope.ref, target);
    }
  }, 90_000);

  test('provisioned again over its volume, it takes the new password, keeps its data and is still recognised', async () => {
    await docker.getContainer(info.containerId!).remove({ force: true });
    const again = await provisionDatabase(
      docker,
      { agentId: scope.agentId, project, image: PG_IMAGE, network, password: 'new-password-2', labels },
      { timeoutMs: 60_000 },
    );
    expect(again).toMatchObject({ status: 'running', superuser: 'app' });
    const login = await psqlOverTcp(
      docker,
      again,
      { user: 'app', password: 'new-password-2' },
      'SELECT count(*) FROM notes',
    );
    expect(login).toMatchObject({ exitCode: 0, stdout: '50\n' });
  }, 90_000);
});
