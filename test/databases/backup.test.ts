import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { dumpDatabase, restoreDatabase } from '../../src/databases/backup.ts';
import { dropDatabase } from '../../src/databases/drop.ts';
import type { DatabaseInfo } from '../../src/databases/spec.ts';
import { BadRequestError, NotFoundError } from '../../src/errors.ts';
import { cleanupByLabel, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';
import { awkwardPassword, collect, provisionForTest, psql, uniqueProject, type Scope, scopeOf } from './harness.ts';

const hasDocker = await requireDocker();
const docker = dockerClient();
const labels = testLabel();
const scope: Scope = scopeOf(`agent-${randomUUID()}`, labels);
const project = uniqueProject('backup');
let info: DatabaseInfo;

beforeAll(async () => {
  if (!hasDocker) return;
  info = await provisionForTest(docker, scope, project, awkwardPassword());
  await psql(
    docker,
    info,
    "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT n, 'note ' || n FROM generate_series(1, 500) n",
  );
}, 90_000);

afterAll(async () => {
  if (!hasDocker) return;
  await dropDatabase(docker, scope.ref, project).catch(() => {});
  await cleanupByLabel(docker, labels['slipway.test']);
});

describe.skipIf(!hasDocker)('dump and restore', () => {
  test('a dump restored after the data changed brings the rows back', async () => {
    const dump = await collect(await dumpDatabase(docker, scope.ref, project));
    expect(dump.subarray(0, 5).toString()).toBe('PGDMP');

    await psql(docker, info, 'DELETE FROM notes WHERE id > 10; CREATE TABLE extra (x int)');
    expect(await psql(docker, info, 'SELECT count(*) FROM notes')).toBe('10');

    await restoreDatabase(docker, scope.ref, project, Readable.from([dump]));
    expect(await psql(docker, info, 'SELECT count(*), sum(id), max(body) FROM notes')).toBe('500|125250|note 99');
    // --clean drops what the dump holds; a table created after the dump is left alone.
    expect(await psql(docker, info, "SELECT count(*) FROM pg_tables WHERE tablename = 'extra'")).toBe('1');
  }, 60_000);

  test('a dump streams in many chunks', async () => {
    await psql(docker, info, 'CREATE TABLE bulk AS SELECT n, md5(n::text) AS h FROM generate_series(1, 200000) n');
    const stream = await dumpDatabase(docker, scope.ref, project);
    let chunks = 0;
    let bytes = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks++;
      bytes += chunk.length;
    }
    expect(bytes).toBeGreaterThan(1_000_000);
    expect(chunks).toBeGreaterThan(10);
    await psql(docker, info, 'DROP TABLE bulk');
  }, 60_000);

  test('a dump abandoned by its reader stops pg_dump', async () => {
    await psql(docker, info, 'CREATE TABLE bulk AS SELECT n, md5(n::text) AS h FROM generate_series(1, 500000) n');
    const stream = await dumpDatabase(docker, scope.ref, project);
    for await (const _ of stream) break;
    let running: string[] = [];
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await Bun.sleep(100)) {
      const top = await docker.getContainer(info.containerId!).top({ ps_args: '-o pid,args' });
      running = top.Processes.map((p: string[]) => p[1] ?? '').filter((args: string) => args.startsWith('pg_dump'));
      if (running.length === 0) break;
    }
    expect(running).toEqual([]);
    const logs = (
      (await docker.getContainer(info.containerId!).logs({ stdout: true, stderr: true })) as Buffer
    ).toString();
    // Stopped, not run to completion into the void.
    expect(logs).toContain('terminating connection due to administrator command');
    await psql(docker, info, 'DROP TABLE bulk');
  }, 60_000);

  test('a restore of something that is not a dump fails with pg_restore’s message and changes nothing', async () => {
    const garbage = Readable.from([Buffer.from('this is not a pg_dump archive\n'.repeat(100))]);
    const error = await restoreDatabase(docker, scope.ref, project, garbage).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toContain('pg_restore');
    expect((error as Error).message).toMatch(/not appear to be a valid archive/);
    expect(await psql(docker, info, 'SELECT count(*) FROM notes')).toBe('500');
  }, 30_000);

  test('a truncated dump is rolled back entirely', async () => {
    const dump = await collect(await dumpDatabase(docker, scope.ref, project));
    await psql(docker, info, 'DELETE FROM notes WHERE id > 1');
    const error = await restoreDatabase(
      docker,
      scope.ref,
      project,
      Readable.from([dump.subarray(0, dump.length - 200)]),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(await psql(docker, info, 'SELECT count(*) FROM notes')).toBe('1');
  }, 30_000);

  test('dump and restore of a project without a database are not found', async () => {
    await expect(dumpDatabase(docker, scope.ref, 'no-such-project')).rejects.toBeInstanceOf(NotFoundError);
    await expect(restoreDatabase(docker, scope.ref, 'no-such-project', Readable.from([]))).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
