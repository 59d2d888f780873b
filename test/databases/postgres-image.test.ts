import { afterAll, describe, expect, test } from 'bun:test';
import type Docker from 'dockerode';
import { runCommand } from '../../src/databases/exec.ts';
import { cleanupByLabel, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';
import { PG_IMAGE } from './harness.ts';

// The fixture stands in for the official postgres image, so it must honour the same interface.
const hasDocker = await requireDocker();
const docker = dockerClient();
const labels = testLabel();

afterAll(async () => {
  if (hasDocker) await cleanupByLabel(docker, labels['slipway.test']);
});

async function startPostgres(env: string[]): Promise<Docker.Container> {
  const container = await docker.createContainer({ Image: PG_IMAGE, Env: env, Labels: labels });
  await container.start();
  return container;
}

/** Polls pg_isready over TCP, as the provisioner does. */
async function ready(container: Docker.Container): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await Bun.sleep(100)) {
    const { exitCode } = await runCommand(docker, container.id, ['pg_isready', '-q', '-h', '127.0.0.1'], {
      user: 'postgres',
    });
    if (exitCode === 0) return;
  }
  throw new Error('postgres did not become ready');
}

async function logs(container: Docker.Container): Promise<string> {
  return ((await container.logs({ stdout: true, stderr: true })) as Buffer).toString('utf8');
}

describe.skipIf(!hasDocker)('the postgres fixture image', () => {
  test('refuses to initialise without POSTGRES_PASSWORD', async () => {
    const container = await startPostgres([]);
    const { StatusCode } = await container.wait();
    expect(StatusCode).not.toBe(0);
    expect(await logs(container)).toContain('POSTGRES_PASSWORD is not set');
  });

  test('defaults user and database to postgres, and wants the password over TCP', async () => {
    const container = await startPostgres(['POSTGRES_PASSWORD=secret']);
    await ready(container);
    const tcp = [
      'psql',
      '-X',
      '-A',
      '-t',
      '-h',
      '127.0.0.1',
      '-U',
      'postgres',
      '-d',
      'postgres',
      '-c',
      'SELECT current_user, current_database()',
    ];
    expect((await runCommand(docker, container.id, tcp, { env: ['PGPASSWORD=secret'] })).stdout.trim()).toBe(
      'postgres|postgres',
    );
    const wrong = await runCommand(docker, container.id, tcp, { env: ['PGPASSWORD=wrong'] });
    expect(wrong.stderr).toContain('password authentication failed');
    const hba = await runCommand(
      docker,
      container.id,
      [
        'psql',
        '-X',
        '-A',
        '-t',
        '-U',
        'postgres',
        '-c',
        'SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE type = $$host$$',
      ],
      {},
    );
    expect(hba.stdout.trim()).toBe('scram-sha-256');
    const tools = await runCommand(docker, container.id, ['pg_restore', '--version'], {});
    expect(tools.stdout).toMatch(/^pg_restore \(PostgreSQL\) \d+/);
  }, 60_000);

  test('creates POSTGRES_USER and POSTGRES_DB once, runs as non-root, and stops fast on SIGTERM', async () => {
    const container = await startPostgres(['POSTGRES_PASSWORD=secret', 'POSTGRES_USER=alice', 'POSTGRES_DB=shop']);
    await ready(container);
    const who = await runCommand(
      docker,
      container.id,
      [
        'psql',
        '-X',
        '-A',
        '-t',
        '-U',
        'alice',
        '-d',
        'shop',
        '-c',
        'SELECT current_user, current_database(), (SELECT usesuper FROM pg_user WHERE usename = current_user)',
      ],
      {},
    );
    expect(who.stdout.trim()).toBe('alice|shop|t');
    const top = await container.top({ ps_args: '-o pid,uid,args' });
    for (const [, uid] of top.Processes as string[][]) expect(uid).not.toBe('0');

    // A client that stays connected: a "smart" shutdown would wait for it for the whole timeout.
    void runCommand(
      docker,
      container.id,
      ['psql', '-X', '-U', 'alice', '-d', 'shop', '-c', 'SELECT pg_sleep(60)'],
      {},
    ).catch(() => {});
    await Bun.sleep(300);
    const started = Date.now();
    await container.kill({ signal: 'SIGTERM' });
    const { StatusCode } = await container.wait();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(StatusCode).toBe(0);
    expect(await logs(container)).toContain('received fast shutdown request');

    await container.start();
    await ready(container);
    expect((await logs(container)).match(/init process complete/g)).toHaveLength(1);
  }, 60_000);
});
