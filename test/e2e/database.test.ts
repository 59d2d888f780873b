import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { retireAgent, startAgent, viaEdge, waitForStatus, type Agent } from '../helpers/agent.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { fixtureTgz } from '../helpers/fixtures.ts';

const hasDocker = await requireDocker();
const HOST = 'pg.localhost';
let agent: Agent;

async function live(res: Response): Promise<void> {
  const body = (await res.json()) as { deployment: { id: string } | null };
  expect(body.deployment).not.toBeNull();
  expect((await waitForStatus(agent, 'pg', body.deployment!.id, ['live', 'failed'])).status).toBe('live');
}

beforeAll(async () => {
  if (!hasDocker) return;
  agent = await startAgent();
  expect((await agent.call('POST', '/v1/projects', { name: 'pg', health_check_path: '/health' })).status).toBe(201);
  const res = await agent.call('POST', '/v1/projects/pg/deployments', new Uint8Array(fixtureTgz('pg-app')), { 'content-type': 'application/gzip' });
  expect((await waitForStatus(agent, 'pg', ((await res.json()) as { id: string }).id, ['live', 'failed'])).status).toBe('live');
});
afterAll(async () => {
  if (!hasDocker) return;
  await agent.call('DELETE', '/v1/projects/pg?confirm=pg');
  await retireAgent(agent, ['pg']);
});

describe.skipIf(!hasDocker)('a Postgres per project', () => {
  test('provisioning injects DATABASE_URL and the app reaches the database', async () => {
    const res = await agent.call('POST', '/v1/projects/pg/database');
    expect(res.status).toBe(201);
    await live(res);
    const answer = await viaEdge(agent.edgePort!, HOST, '/');
    expect(await answer.text()).toBe('1');
    const env = (await (await agent.call('GET', '/v1/projects/pg/env')).json()) as { data: { key: string; value: string; managed_by: string }[] };
    expect(env.data).toEqual([expect.objectContaining({ key: 'DATABASE_URL', value: '••••••', managed_by: 'database' })]);
  });

  test('shows status, version and size with the password masked', async () => {
    const db = (await (await agent.call('GET', '/v1/projects/pg/database')).json()) as Record<string, unknown> & { connection: Record<string, unknown>; url: string };
    expect(db.status).toBe('running');
    expect(db.version).toStartWith('15.');
    expect(db.size_bytes as number).toBeGreaterThan(1_000_000);
    expect(db.connection).toEqual({ host: 'slipway-pg-db', port: 5432, database: 'app', user: 'app', password: '••••••' });
    expect(db.url).toBe('postgres://app:%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2@slipway-pg-db:5432/app');
  });

  test('the database port is not published on the host', async () => {
    const info = await dockerClient().getContainer('slipway-pg-db').inspect();
    expect(info.HostConfig.PortBindings ?? {}).toEqual({});
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual(['slipway-pg']);
  });

  test('a dump streams in pg_dump custom format and restores', async () => {
    const dump = await agent.call('GET', '/v1/projects/pg/database/dump');
    expect(dump.status).toBe(200);
    expect(dump.headers.get('content-disposition')).toMatch(/^attachment; filename="pg-.*\.dump"$/);
    const bytes = new Uint8Array(await dump.arrayBuffer());
    expect(Buffer.from(bytes.subarray(0, 5)).toString()).toBe('PGDMP');
    const restore = await agent.call('POST', '/v1/projects/pg/database/restore', bytes, { 'content-type': 'application/octet-stream' });
    expect(restore.status).toBe(204);
    const bad = await agent.call('POST', '/v1/projects/pg/database/restore', new TextEncoder().encode('not a dump'), { 'content-type': 'application/octet-stream' });
    expect(bad.status).toBe(400);
  });

  test('the project cannot be deleted without confirming its database', async () => {
    const res = await agent.call('DELETE', '/v1/projects/pg');
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'Cannot delete "pg": it has a database; repeat the project name as ?confirm=pg to delete both',
    );
  });

  test('dropping needs ?confirm and removes DATABASE_URL with a rollout', async () => {
    expect((await agent.call('DELETE', '/v1/projects/pg/database')).status).toBe(422);
    const res = await agent.call('DELETE', '/v1/projects/pg/database?confirm=pg');
    expect(res.status).toBe(200);
    await live(res);
    expect(((await (await agent.call('GET', '/v1/projects/pg/env')).json()) as { data: unknown[] }).data).toEqual([]);
    expect((await agent.call('GET', '/v1/projects/pg/database')).status).toBe(404);
    const volumes = (await dockerClient().listVolumes()).Volumes ?? [];
    expect(volumes.map((v) => v.Name)).not.toContain('slipway-pg-pgdata');
  });
});
