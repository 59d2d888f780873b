import { afterAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { dropDatabase } from '../../src/databases/drop.ts';
import { databaseUrl, inspectDatabase } from '../../src/databases/inspect.ts';
import { provisionDatabase } from '../../src/databases/provision.ts';
import { databaseContainerName, databaseVolumeName, type DatabaseInfo } from '../../src/databases/spec.ts';
import { ConflictError } from '../../src/errors.ts';
import { cleanupByLabel, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';
import {
  awkwardPassword,
  createProjectNetwork,
  PG_IMAGE,
  provisionForTest,
  psql,
  startPgApp,
  uniqueProject,
  type Scope,
  scopeOf,
} from './harness.ts';

const hasDocker = await requireDocker();
const docker = dockerClient();
const labels = testLabel();
const scope: Scope = scopeOf(`agent-${randomUUID()}`, labels);
const project = uniqueProject('pg');
const password = awkwardPassword();

afterAll(async () => {
  if (!hasDocker) return;
  await dropDatabase(docker, scope.ref, project).catch(() => {});
  await cleanupByLabel(docker, labels['slipway.test']);
});

describe.skipIf(!hasDocker)('a project database', () => {
  let info: DatabaseInfo;

  test('is provisioned, running, with a version and a size', async () => {
    info = await provisionForTest(docker, scope, project, password);
    expect(info).toMatchObject({
      host: databaseContainerName(project),
      volume: databaseVolumeName(project),
      port: 5432,
      user: 'app',
      database: 'app',
      status: 'running',
    });
    const inspected = await inspectDatabase(docker, scope.ref, project);
    expect(inspected?.status).toBe('running');
    expect(inspected?.version).toMatch(/^\d+\.\d+/);
    expect(inspected?.sizeBytes).toBeGreaterThan(1_000_000);
  }, 90_000);

  test('runs as a locked-down container with its own volume, on the project network only', async () => {
    const c = await docker.getContainer(info.containerId!).inspect();
    expect(c.Name).toBe(`/${databaseContainerName(project)}`);
    expect(c.Config.Labels).toMatchObject({
      'slipway.managed': 'true',
      'slipway.agent': scope.agentId,
      'slipway.project': project,
      'slipway.role': 'database',
    });
    expect(Object.keys(c.NetworkSettings.Networks)).toEqual([`slipway-${project}`]);
    expect(c.NetworkSettings.Networks[`slipway-${project}`]?.Aliases).toContain('db');
    expect(c.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
    expect(c.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(c.HostConfig.Memory).toBeGreaterThan(0);
    expect(c.HostConfig.PidsLimit).toBeGreaterThan(0);
    expect(c.Mounts).toEqual([
      expect.objectContaining({
        Type: 'volume',
        Name: databaseVolumeName(project),
        Destination: '/var/lib/postgresql/data',
      }),
    ]);
    const top = await docker.getContainer(info.containerId!).top({ ps_args: '-o pid,uid,args' });
    const servers = top.Processes.filter((p: string[]) => /^postgres/.test(p[2] ?? ''));
    expect(servers.length).toBeGreaterThan(0);
    for (const process of servers) expect(process[1]).not.toBe('0');
  });

  test('serves an app on the same network through DATABASE_URL', async () => {
    const url = databaseUrl(info, password);
    expect(url).toStartWith(`postgres://${info.user}:`);
    expect(url).not.toContain(password);
    const base = await startPgApp(docker, scope, `slipway-${project}`, url);
    const res = await fetch(base);
    expect(await res.text()).toBe('1');
    expect(res.status).toBe(200);
  }, 30_000);

  test('refuses to provision a second database for the same project', async () => {
    const spec = { agentId: scope.agentId, project, image: PG_IMAGE, network: `slipway-${project}`, password, labels };
    await expect(provisionDatabase(docker, spec, { timeoutMs: 10_000 })).rejects.toBeInstanceOf(ConflictError);
  });

  test('shows a volume without its container as missing, and reuses it with a new password', async () => {
    await psql(docker, info, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$still here$$)');
    await docker.getContainer(info.containerId!).remove({ force: true });
    expect(await inspectDatabase(docker, scope.ref, project)).toMatchObject({
      status: 'missing',
      containerId: null,
    });

    const newPassword = awkwardPassword();
    const spec = {
      agentId: scope.agentId,
      project,
      image: PG_IMAGE,
      network: `slipway-${project}`,
      password: newPassword,
      labels,
    };
    info = await provisionDatabase(docker, spec, { timeoutMs: 60_000 });
    expect(await psql(docker, info, 'SELECT v FROM kept')).toBe('still here');
    const base = await startPgApp(docker, scope, `slipway-${project}`, databaseUrl(info, newPassword));
    expect(await (await fetch(base)).text()).toBe('1');
    const stale = await startPgApp(docker, scope, `slipway-${project}`, databaseUrl(info, password));
    expect(await (await fetch(stale)).text()).toContain('password authentication failed');
  }, 90_000);

  test('is dropped with its volume', async () => {
    await dropDatabase(docker, scope.ref, project);
    expect(await inspectDatabase(docker, scope.ref, project)).toBeNull();
    await expect(docker.getContainer(databaseContainerName(project)).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
    await expect(docker.getVolume(databaseVolumeName(project)).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await dropDatabase(docker, scope.ref, project);
  });

  test('gives up after its timeout, leaving nothing behind', async () => {
    const other = uniqueProject('pg-slow');
    const network = await createProjectNetwork(docker, scope, other);
    const spec = { agentId: scope.agentId, project: other, image: PG_IMAGE, network, password, labels };
    await expect(provisionDatabase(docker, spec, { timeoutMs: 300 })).rejects.toThrow(
      `Cannot provision a database for "${other}": it was not ready within 0.3 s`,
    );
    expect(await inspectDatabase(docker, scope.ref, other)).toBeNull();
  }, 30_000);

  test('stops when its signal is aborted', async () => {
    const other = uniqueProject('pg-abort');
    const network = await createProjectNetwork(docker, scope, other);
    const spec = { agentId: scope.agentId, project: other, image: PG_IMAGE, network, password, labels };
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deployment canceled')), 300);
    await expect(provisionDatabase(docker, spec, { timeoutMs: 60_000, signal: controller.signal })).rejects.toThrow(
      'deployment canceled',
    );
    expect(await inspectDatabase(docker, scope.ref, other)).toBeNull();
  }, 30_000);

  test('fails to provision from an image it cannot get, leaving nothing behind', async () => {
    const other = uniqueProject('pg-noimage');
    const network = await createProjectNetwork(docker, scope, other);
    const spec = {
      agentId: scope.agentId,
      project: other,
      image: `slipway-fixture/missing-${randomUUID().slice(0, 8)}:latest`,
      network,
      password,
      labels,
    };
    await expect(provisionDatabase(docker, spec, { timeoutMs: 20_000 })).rejects.toThrow(/missing-/);
    expect(await inspectDatabase(docker, scope.ref, other)).toBeNull();
  }, 30_000);
});
