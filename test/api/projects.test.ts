import { afterAll, describe, expect, test } from 'bun:test';
import { errorOf, makeTestApp, TEST_ACTOR } from '../helpers/app.ts';

const t = makeTestApp();
afterAll(() => t.close());

type Page = { data: { name: string }[]; pagination: { next_cursor: string | null; has_more: boolean } };

describe('/v1/projects', () => {
  test('creating a project fills in defaults and answers 201', async () => {
    const res = await t.req('POST', '/v1/projects', { body: { name: 'web', port: 3000 } });
    expect(res.status).toBe(201);
    const p = (await res.json()) as Record<string, unknown>;
    expect(p).toMatchObject({
      name: 'web',
      hostname: 'web.localhost',
      port: 3000,
      health_check_path: '/',
      instances: 1,
      memory_mb: 512,
      cpus: 1,
      dockerfile: null,
    });
    expect(p.id).toMatch(/^prj_/);
    expect(p.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect((await t.req('GET', '/v1/projects/web')).status).toBe(200);
  });

  test('a duplicate name answers 409 conflict', async () => {
    const res = await t.req('POST', '/v1/projects', { body: { name: 'web' } });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatchObject({
      code: 'conflict',
      message: 'Cannot create project "web": the name is taken',
    });
  });

  test('names must be DNS labels', async () => {
    for (const name of ['Web', '1web', 'web_app', '-web', '', 'a'.repeat(64), 'web.app']) {
      const res = await t.req('POST', '/v1/projects', { body: { name } });
      expect({ name, status: res.status }).toEqual({ name, status: 422 });
    }
    const ok = await t.req('POST', '/v1/projects', { body: { name: `a${'b'.repeat(62)}` } });
    expect(ok.status).toBe(201);
  });

  test('settings outside their ranges are rejected with an issue each', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ instances: 0 }, '/instances', 'Expected an integer from 1 to 20'],
      [{ instances: 2.5 }, '/instances', 'Expected an integer from 1 to 20'],
      [{ port: 70000 }, '/port', 'Expected an integer from 1 to 65535 or null'],
      [{ memory_mb: 16 }, '/memory_mb', 'Expected an integer from 64 to 262144'],
      [{ cpus: 0 }, '/cpus', 'Expected a number from 0.05 to 64'],
      [
        { health_check_path: 'health' },
        '/health_check_path',
        'Expected a string matching ^/[\\x21-\\x7E]*$, of at most 512 characters',
      ],
      [
        { dockerfile: '../Dockerfile' },
        '/dockerfile',
        'Expected a string matching ^(?!/)(?!.*(^|/)\\.\\.(/|$))[A-Za-z0-9._/-]+$, of 1 to 255 characters or null',
      ],
      [
        { dockerfile: '/etc/passwd' },
        '/dockerfile',
        'Expected a string matching ^(?!/)(?!.*(^|/)\\.\\.(/|$))[A-Za-z0-9._/-]+$, of 1 to 255 characters or null',
      ],
    ];
    for (const [patch, path, message] of cases) {
      const res = await t.req('PATCH', '/v1/projects/web', { body: patch });
      expect({ patch, status: res.status }).toEqual({ patch, status: 422 });
      expect((await errorOf(res)).issues).toEqual([{ path, message }]);
    }
    expect(((await (await t.req('GET', '/v1/projects/web')).json()) as { instances: number }).instances).toBe(1);
  });

  test('PATCH changes only the given settings', async () => {
    const res = await t.req('PATCH', '/v1/projects/web', {
      body: { instances: 3, dockerfile: 'deploy/Dockerfile', port: null },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      name: 'web',
      instances: 3,
      dockerfile: 'deploy/Dockerfile',
      port: null,
      memory_mb: 512,
    });
  });

  test('an unknown project answers 404', async () => {
    for (const [method, body] of [['GET'], ['PATCH', { instances: 2 }], ['DELETE']] as const) {
      const res = await t.req(method, '/v1/projects/ghost', { body });
      expect(res.status).toBe(404);
      expect(await errorOf(res)).toMatchObject({ code: 'not_found', message: 'No project named "ghost"' });
    }
  });

  test('the list filters by name prefix', async () => {
    for (const name of ['api-one', 'api-two', 'blog']) t.deps.projects.create(TEST_ACTOR, { name });
    const page = (await (await t.req('GET', '/v1/projects?prefix=api-')).json()) as Page;
    expect(page.data.map((p) => p.name)).toEqual(['api-one', 'api-two']);
  });

  test('a project-limited token sees only its projects', async () => {
    const secret = t.token({ name: 'blog-only', scope: 'read', projects: ['blog'] });
    const page = (await (await t.req('GET', '/v1/projects', { token: secret })).json()) as Page;
    expect(page.data.map((p) => p.name)).toEqual(['blog']);
  });

  test('pagination is stable while projects are being created', async () => {
    const before = (await (await t.req('GET', '/v1/projects?limit=100')).json()) as Page;
    const seen: string[] = [];
    let cursor: string | null = null;
    let i = 0;
    do {
      const res = await t.req('GET', `/v1/projects?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      const page = (await res.json()) as Page;
      seen.push(...page.data.map((p) => p.name));
      cursor = page.pagination.next_cursor;
      // Insert names that sort both before and after the current position.
      t.deps.projects.create(TEST_ACTOR, { name: `aa-${i}` });
      t.deps.projects.create(TEST_ACTOR, { name: `zz-${i++}` });
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (const p of before.data) expect(seen).toContain(p.name);
    expect([...seen].sort()).toEqual(seen);
  });

  test('a cursor that was not made by the API answers 400', async () => {
    const res = await t.req('GET', '/v1/projects?limit=1&cursor=not-a-cursor');
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      code: 'bad_request',
      message: 'Invalid cursor: pass the next_cursor of a previous page as it was',
    });
  });

  test('a cursor from another list answers 400 instead of restarting this one', async () => {
    t.token({ name: 'cursor-a', scope: 'read' });
    t.token({ name: 'cursor-b', scope: 'read' });
    const tokens = (await (await t.req('GET', '/v1/tokens?limit=1')).json()) as {
      pagination: { next_cursor: string };
    };
    const activity = (await (await t.req('GET', '/v1/activity?limit=1')).json()) as {
      pagination: { next_cursor: string };
    };
    for (const [path, cursor] of [
      ['/v1/projects', tokens.pagination.next_cursor],
      ['/v1/tokens', activity.pagination.next_cursor],
      ['/v1/activity', tokens.pagination.next_cursor],
    ] as const) {
      const res = await t.req('GET', `${path}?limit=1&cursor=${cursor}`);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe('bad_request');
    }
    // Same key type, other list: a cursor of one project's string-keyed list on another's.
    const projects = (await (await t.req('GET', '/v1/projects?limit=1')).json()) as {
      pagination: { next_cursor: string };
    };
    const res = await t.req('GET', `/v1/tokens?limit=1&cursor=${projects.pagination.next_cursor}`);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ message: 'Invalid cursor: it belongs to another list' });
  });

  test('deleting a project answers 204 and it is gone', async () => {
    const res = await t.req('DELETE', '/v1/projects/blog');
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await t.req('GET', '/v1/projects/blog')).status).toBe(404);
  });
});

describe('quotas', () => {
  const deployer = t.token({ name: 'quota-deployer', scope: 'deploy', projects: ['shop'] });

  test('a new project gets the default quota, shown with its settings', async () => {
    const res = await t.req('POST', '/v1/projects', { body: { name: 'shop' } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ quota: { instances: 10, memory_mb: 8192, cpus: 10 } });
  });

  test('a deploy token cannot size a project past its quota, by PATCH or by scale', async () => {
    const patch = await t.req('PATCH', '/v1/projects/shop', {
      token: deployer,
      body: { instances: 12, cpus: 0.5 },
    });
    expect(patch.status).toBe(422);
    const err = await errorOf(patch);
    expect(err.code).toBe('validation_error');
    expect(err.message).toContain('Cannot size "shop" past its quota (12 instances is past the quota of 10 instances)');
    expect(err.issues).toEqual([{ path: '/instances', message: '12 instances is past the quota of 10 instances' }]);
    // 4 instances × 4096 MiB = 16 GiB in all: past 8 GiB even though each setting alone fits.
    const memory = await t.req('PATCH', '/v1/projects/shop', {
      token: deployer,
      body: { instances: 4, memory_mb: 4096 },
    });
    expect(memory.status).toBe(422);
    expect((await errorOf(memory)).issues).toEqual([
      { path: '/memory_mb', message: '16384 MiB in all is past the quota of 8192 MiB in all' },
    ]);
    const scale = await t.req('POST', '/v1/projects/shop/scale', { token: deployer, body: { instances: 11 } });
    expect(scale.status).toBe(422);
    expect((await t.req('GET', '/v1/projects/shop')).status).toBe(200);
    expect(await (await t.req('GET', '/v1/projects/shop')).json()).toMatchObject({ instances: 1, memory_mb: 512 });
  });

  test('only an admin sets a quota, and within it a deploy token may then grow the project', async () => {
    const denied = await t.req('PUT', '/v1/projects/shop/quota', { token: deployer, body: { instances: 20 } });
    expect(denied.status).toBe(403);
    const raised = await t.req('PUT', '/v1/projects/shop/quota', { body: { instances: 20, memory_mb: 20480 } });
    expect(raised.status).toBe(200);
    expect(await raised.json()).toMatchObject({ quota: { instances: 20, memory_mb: 20480, cpus: 10 } });
    const grown = await t.req('PATCH', '/v1/projects/shop', { token: deployer, body: { instances: 4, cpus: 1 } });
    expect(grown.status).toBe(200);
    const activity = (await (await t.req('GET', '/v1/activity?action=project.quota')).json()) as {
      data: { target: string; changes: Record<string, unknown> }[];
    };
    expect(activity.data[0]).toMatchObject({
      target: 'shop',
      changes: {
        from: { instances: 10, memory_mb: 8192, cpus: 10 },
        to: { instances: 20, memory_mb: 20480, cpus: 10 },
      },
    });
  });

  test('a quota below what the project uses answers 409, and a shrinking project is never refused', async () => {
    const res = await t.req('PUT', '/v1/projects/shop/quota', { body: { cpus: 2 } });
    expect(res.status).toBe(409);
    expect((await errorOf(res)).message).toBe(
      'Cannot lower the quota of "shop" below what it uses (4 CPUs in all); scale it down first',
    );
    // A project past its quota (say, from before quotas) may shrink.
    t.deps.db.prepare("UPDATE projects SET quota_cpus = 1 WHERE name = 'shop'").run();
    const shrink = await t.req('PATCH', '/v1/projects/shop', { token: deployer, body: { instances: 3 } });
    expect(shrink.status).toBe(200);
    const grow = await t.req('PATCH', '/v1/projects/shop', { token: deployer, body: { cpus: 2 } });
    expect(grow.status).toBe(422);
  });
});
