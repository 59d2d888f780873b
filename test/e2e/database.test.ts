import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { retireAgent, startAgent, viaEdge, waitForStatus, type Agent } from '../helpers/agent.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { fixtureTgz } from '../helpers/fixtures.ts';

/** A project name of its own, so runs sharing one engine never touch each other's containers. */
const P = `pg-${crypto.randomUUID().slice(0, 6)}`;

const hasDocker = await requireDocker();
const HOST = `${P}.localhost`;
let agent: Agent;

async function live(res: Response): Promise<void> {
  const body = (await res.json()) as { deployment: { id: string } | null };
  expect(body.deployment).not.toBeNull();
  expect((await waitForStatus(agent, P, body.deployment!.id, ['live', 'failed'])).status).toBe('live');
}

beforeAll(async () => {
  if (!hasDocker) return;
  agent = await startAgent();
  expect((await agent.call('POST', '/v1/projects', { name: P, health_check_path: '/health' })).status).toBe(201);
  const res = await agent.call('POST', `/v1/projects/${P}/deployments`, new Uint8Array(fixtureTgz('pg-app')), {
    'content-type': 'application/gzip',
  });
  expect((await waitForStatus(agent, P, ((await res.json()) as { id: string }).id, ['live', 'failed'])).status).toBe(
    'live',
  );
});
afterAll(async () => {
  if (!hasDocker) return;
  await agent.call('DELETE', `/v1/projects/${P}?confirm=${P}`);
  await retireAgent(agent, [P]);
});

describe.skipIf(!hasDocker)('a Postgres per project', () => {
  test('provisioning injects DATABASE_URL and the app reaches the database', async () => {
    const res = await agent.call('POST', `/v1/projects/${P}/database`);
    expect(res.status).toBe(201);
    await live(res);
    const answer = await viaEdge(agent.edgePort!, HOST, '/');
    expect(await answer.text()).toBe('1');
    const env = (await (await agent.call('GET', `/v1/projects/${P}/env`)).json()) as {
      data: { key: string; value: string; managed_by: string }[];
    };
    expect(env.data).toEqual([
      expect.objectContaining({ key: 'DATABASE_URL', value: '••••••', managed_by: 'database' }),
    ]);
  });

  test('shows status, version and size with the password masked', async () => {
    const db = (await (await agent.call('GET', `/v1/projects/${P}/database`)).json()) as Record<string, unknown> & {
      connection: Record<string, unknown>;
      url: string;
    };
    expect(db.status).toBe('running');
    expect(db.version).toStartWith('15.');
    expect(db.size_bytes as number).toBeGreaterThan(1_000_000);
    expect(db.connection).toEqual({
      host: `slipway-${P}-db`,
      port: 5432,
      database: 'app',
      user: 'app',
      password: '••••••',
    });
    expect(db.url).toBe(
      `postgres://app:%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2@slipway-${P}-db:5432/app`,
    );
  });

  test('the database port is not published on the host', async () => {
    const info = await dockerClient().getContainer(`slipway-${P}-db`).inspect();
    expect(info.HostConfig.PortBindings ?? {}).toEqual({});
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([`slipway-${P}`]);
  });

  test('a dump streams in pg_dump custom format and restores', async () => {
    const dump = await agent.call('GET', `/v1/projects/${P}/database/dump`);
    expect(dump.status).toBe(200);
    expect(dump.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="${P}-.*\\.dump"$`));
    const bytes = new Uint8Array(await dump.arrayBuffer());
    expect(Buffer.from(bytes.subarray(0, 5)).toString()).toBe('PGDMP');
    const restore = await agent.call('POST', `/v1/projects/${P}/database/restore`, bytes, {
      'content-type': 'application/octet-stream',
    });
    expect(restore.status).toBe(204);
    const bad = await agent.call('POST', `/v1/projects/${P}/database/restore`, new TextEncoder().encode('not a dump'), {
      'content-type': 'application/octet-stream',
    });
    expect(bad.status).toBe(400);
  });

  test('the project cannot be deleted without confirming its database', async () => {
    const res = await agent.call('DELETE', `/v1/projects/${P}`);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      `Cannot delete "${P}": it has a database; repeat the project name as ?confirm=${P} to delete both`,
    );
  });

  test('dropping needs ?confirm and removes DATABASE_URL with a rollout', async () => {
    expect((await agent.call('DELETE', `/v1/projects/${P}/database`)).status).toBe(422);
    const res = await agent.call('DELETE', `/v1/projects/${P}/database?confirm=${P}`);
    expect(res.status).toBe(200);
    await live(res);
    expect(((await (await agent.call('GET', `/v1/projects/${P}/env`)).json()) as { data: unknown[] }).data).toEqual([]);
    expect((await agent.call('GET', `/v1/projects/${P}/database`)).status).toBe(404);
    const volumes = (await dockerClient().listVolumes()).Volumes ?? [];
    expect(volumes.map((v) => v.Name)).not.toContain(`slipway-${P}-pgdata`);
  });
});
