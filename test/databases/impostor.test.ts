import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Readable } from 'node:stream';
import { agentId } from '../../src/db/meta.ts';
import { databaseRepo } from '../../src/db/databases.ts';
import { databaseLabels } from '../../src/databases/spec.ts';
import { makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { FIXTURE_IMAGES, removeProjectObjects } from '../helpers/agent.ts';
import { cleanupByLabel, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';
import { psql, uniqueProject } from './harness.ts';
import { inspectDatabase } from '../../src/databases/inspect.ts';

/**
 * Project A's build can run a container wearing every label of project B's database (a
 * Dockerfile's LABEL reaches its build step containers). B's database operations must still
 * reach B's own container: the one Slipway recorded by id when it created it.
 */
const hasDocker = await requireDocker();
const docker = dockerClient();
const labels = testLabel();
const t = makeTestApp(FIXTURE_IMAGES);
const victim = uniqueProject('victim');

beforeAll(async () => {
  if (!hasDocker) return;
  t.deps.projects.create(TEST_ACTOR, { name: victim });
  await t.deps.databases.create(TEST_ACTOR, victim);
}, 120_000);

afterAll(async () => {
  if (hasDocker) {
    await t.deps.databases.drop(victim).catch(() => {});
    await cleanupByLabel(docker, labels['slipway.test']);
    await removeProjectObjects([victim]);
  }
  t.close();
});

describe.skipIf(!hasDocker)("a container labelled as another project's database", () => {
  test('is never taken for it: status, dump and restore reach the recorded container', async () => {
    const p = t.deps.projects.get(victim);
    const row = databaseRepo(t.deps.db).find(p.id)!;
    expect(row.container_id).toMatch(/^[0-9a-f]{64}$/);
    expect(row.image_id).toMatch(/^sha256:/);
    const agent = agentId(t.deps.db);
    const info = (await inspectDatabase(
      docker,
      { agentId: agent, containerId: row.container_id, imageId: row.image_id },
      victim,
    ))!;
    expect(info.containerId).toBe(row.container_id);
    await psql(docker, info, "CREATE TABLE secrets (v text); INSERT INTO secrets VALUES ('only in the victim')");

    // The impostor: the victim's database labels, running, created before and after the real one.
    const impostor = await docker.createContainer({
      Image: 'slipway-fixture/static:latest',
      Cmd: ['sleep', '600'],
      Labels: { ...databaseLabels(agent, victim, 'postgres'), ...labels },
    });
    await impostor.start();

    expect((await t.deps.databases.get(victim)).status).toBe('running');
    const dump = Buffer.concat(await Array.fromAsync(await t.deps.databases.dump(TEST_ACTOR, victim)));
    expect(dump.subarray(0, 5).toString()).toBe('PGDMP');
    // The dump holds the victim's row: restoring it brings back what was deleted meanwhile.
    await psql(docker, info, 'DELETE FROM secrets');
    await t.deps.databases.restore(TEST_ACTOR, victim, Readable.from([dump]));
    expect(await psql(docker, info, 'SELECT v FROM secrets')).toBe('only in the victim');
    // The impostor was never exec'd into: it ran nothing but its own command.
    expect((await impostor.inspect()).ExecIDs ?? []).toEqual([]);
  }, 120_000);
});
