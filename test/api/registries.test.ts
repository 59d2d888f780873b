import { afterAll, describe, expect, test } from 'bun:test';
import { errorOf, makeTestApp, TEST_ACTOR } from '../helpers/app.ts';

const t = makeTestApp();
t.deps.projects.create(TEST_ACTOR, { name: 'web' });
afterAll(() => t.close());

const SECRET = 'hunter2-registry-password';
const add = (body: unknown, token?: string) => t.req('POST', '/v1/registries', { body, token });

describe('/v1/registries', () => {
  test('adding credentials answers 201 without the password, and adding the host again replaces them with 200', async () => {
    const res = await add({ host: 'Registry.Example.com', username: 'ci', password: SECRET });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ host: 'registry.example.com', username: 'ci' });
    expect(body.id).toMatch(/^reg_/);
    expect(JSON.stringify(body)).not.toContain(SECRET);
    expect(Object.keys(body).sort()).toEqual(['created_at', 'host', 'id', 'updated_at', 'username']);
    const again = await add({ host: 'registry.example.com', username: 'robot', password: `${SECRET}-2` });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { username: string }).username).toBe('robot');
  });

  test('the password is sealed at rest and opens only for its own host', async () => {
    const row = t.deps.db.prepare('SELECT * FROM registries WHERE host = ?').get('registry.example.com') as {
      password: string;
    };
    expect(row.password).toStartWith('v1.');
    expect(row.password).not.toContain(SECRET);
    expect(t.deps.registries.authFor('registry.example.com')).toEqual({
      username: 'robot',
      password: `${SECRET}-2`,
      serveraddress: 'registry.example.com',
    });
    // A sealed password copied onto another host's row does not open there.
    expect((await add({ host: 'other.example.com', username: 'x', password: 'y' })).status).toBe(201);
    t.deps.db.prepare('UPDATE registries SET password = ? WHERE host = ?').run(row.password, 'other.example.com');
    expect(() => t.deps.registries.authFor('other.example.com')).toThrow();
    t.deps.db.prepare('DELETE FROM registries WHERE host = ?').run('other.example.com');
  });

  test('Docker Hub credentials are stored under docker.io and sent to its index', async () => {
    expect((await add({ host: 'index.docker.io', username: 'me', password: 'tok' })).status).toBe(201);
    expect(t.deps.registries.authFor('docker.io')?.serveraddress).toBe('https://index.docker.io/v1/');
  });

  test('the list and one host show no password; a page continues with its cursor', async () => {
    const page = (await (await t.req('GET', '/v1/registries?limit=1')).json()) as {
      data: { host: string }[];
      pagination: { next_cursor: string; has_more: boolean };
    };
    expect(page.data.map((r) => r.host)).toEqual(['docker.io']);
    expect(page.pagination.has_more).toBe(true);
    const next = (await (
      await t.req('GET', `/v1/registries?limit=1&cursor=${page.pagination.next_cursor}`)
    ).json()) as { data: { host: string }[] };
    expect(next.data.map((r) => r.host)).toEqual(['registry.example.com']);
    const one = await t.req('GET', '/v1/registries/registry.example.com');
    expect(one.status).toBe(200);
    expect(await one.text()).not.toContain(SECRET);
  });

  const badHosts = ['https://registry.example.com', 'registry.example.com/team', 'a b', 'host:99999', '-bad.example'];
  for (const host of badHosts) {
    test(`refuses the host "${host}" with 422`, async () => {
      const res = await add({ host, username: 'u', password: 'p' });
      expect(res.status).toBe(422);
      expect((await errorOf(res)).message).toContain(`Invalid registry host "${host}"`);
    });
  }

  test('refuses unknown fields and a missing password with 422', async () => {
    expect((await add({ host: 'r.example', username: 'u', password: 'p', projects: ['web'] })).status).toBe(422);
    expect((await add({ host: 'r.example', username: 'u' })).status).toBe(422);
  });

  test('only admins may see or change credentials, even a deploy token of every project', async () => {
    const deploy = t.token({ name: 'deployer', scope: 'deploy' });
    const webAdmin = t.token({ name: 'web admin', scope: 'admin', projects: ['web'] });
    for (const token of [deploy, webAdmin]) {
      expect((await add({ host: 'evil.example', username: 'u', password: 'p' }, token)).status).toBe(403);
      expect((await t.req('GET', '/v1/registries', { token })).status).toBe(403);
      expect((await t.req('DELETE', '/v1/registries/registry.example.com', { token })).status).toBe(403);
    }
  });

  test('a host with a port is found by its path segment, encoded or not', async () => {
    expect((await add({ host: '127.0.0.1:5000', username: 'u', password: 'p' })).status).toBe(201);
    expect((await t.req('GET', '/v1/registries/127.0.0.1:5000')).status).toBe(200);
    const res = await t.req('DELETE', '/v1/registries/127.0.0.1%3A5000');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { host: string }).host).toBe('127.0.0.1:5000');
    expect(t.deps.registries.registered('127.0.0.1:5000')).toBe(false);
  });

  test('removing credentials answers 200, then 404, and every change is in the activity log', async () => {
    const res = await t.req('DELETE', '/v1/registries/registry.example.com');
    expect(res.status).toBe(200);
    expect(t.deps.registries.authFor('registry.example.com')).toBeNull();
    const gone = await t.req('DELETE', '/v1/registries/registry.example.com');
    expect(gone.status).toBe(404);
    expect((await errorOf(gone)).message).toBe('No registry credentials for "registry.example.com"');
    const log = (await (await t.req('GET', '/v1/activity?action=registry')).json()) as {
      data: { action: string; target: string; changes: Record<string, unknown> }[];
    };
    expect(log.data.map((a) => [a.action, a.target])).toEqual([
      ['registry.delete', 'registry.example.com'],
      ['registry.delete', '127.0.0.1:5000'],
      ['registry.create', '127.0.0.1:5000'],
      ['registry.create', 'docker.io'],
      ['registry.create', 'other.example.com'],
      ['registry.update', 'registry.example.com'],
      ['registry.create', 'registry.example.com'],
    ]);
    expect(JSON.stringify(log)).not.toContain(SECRET);
  });
});
