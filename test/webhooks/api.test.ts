import { afterAll, describe, expect, test } from 'bun:test';
import { errorOf, makeTestApp, TEST_ACTOR } from '../helpers/app.ts';

const t = makeTestApp({ SLIPWAY_WEBHOOK_ALLOW_PRIVATE: 'true' });
t.deps.projects.create(TEST_ACTOR, { name: 'web' });
afterAll(() => t.close());

const URL_OK = 'http://127.0.0.1:9/hook';
type Hook = { id: string; url: string; events: string[]; project: string | null; secret?: string };

async function create(body: unknown, token?: string): Promise<Response> {
  return t.req('POST', '/v1/webhooks', { body, token });
}

describe('/v1/webhooks', () => {
  test('creating answers 201 with the secret once; lists and gets never show it, and it is stored sealed', async () => {
    const res = await create({
      url: URL_OK,
      events: ['deployment.live', 'deployment.failed', 'deployment.live'],
      project: 'web',
      description: 'chat',
    });
    expect(res.status).toBe(201);
    const made = (await res.json()) as Hook;
    expect(made).toMatchObject({
      url: URL_OK,
      events: ['deployment.live', 'deployment.failed'],
      project: 'web',
      description: 'chat',
    });
    expect(made.secret).toMatch(/^whsec_/);
    const listed = (await (await t.req('GET', '/v1/webhooks')).json()) as { data: Hook[] };
    expect(listed.data.find((h) => h.id === made.id)).toBeDefined();
    expect(JSON.stringify(listed)).not.toContain(made.secret!);
    const got = await t.req('GET', `/v1/webhooks/${made.id}`);
    expect(Object.keys((await got.json()) as object)).not.toContain('secret');
    const row = t.deps.db.prepare('SELECT secret_sealed FROM webhooks WHERE id = ?').get(made.id) as {
      secret_sealed: string;
    };
    expect(row.secret_sealed).toStartWith('v1.');
    expect(row.secret_sealed).not.toContain(made.secret!.slice(6));
  });

  test('creating and removing are in the activity log, with the URL origin only', async () => {
    const made = (await (
      await create({ url: 'http://127.0.0.1:9/secret-path-token', events: ['backup.failed'] })
    ).json()) as Hook;
    expect((await t.req('DELETE', `/v1/webhooks/${made.id}`)).status).toBe(204);
    const log = (await (await t.req('GET', '/v1/activity?limit=2')).json()) as {
      data: { action: string; target: string; changes: Record<string, unknown> }[];
    };
    expect(log.data.map((e) => [e.action, e.target])).toEqual([
      ['webhook.delete', made.id],
      ['webhook.create', made.id],
    ]);
    expect(log.data[1]!.changes).toEqual({ url: 'http://127.0.0.1:9', events: ['backup.failed'] });
    expect((await t.req('GET', `/v1/webhooks/${made.id}`)).status).toBe(404);
  });

  const invalid: [string, unknown, string][] = [
    ['an unknown event', { url: URL_OK, events: ['deployment.exploded'] }, '/events/0'],
    ['no events', { url: URL_OK, events: [] }, '/events'],
    ['a missing URL', { events: ['deployment.live'] }, '/url'],
    ['an unknown field', { url: URL_OK, events: ['deployment.live'], secret: 'mine' }, '/secret'],
    ['an ftp URL', { url: 'ftp://127.0.0.1/x', events: ['deployment.live'] }, '/url'],
    ['credentials in the URL', { url: 'http://u:p@127.0.0.1/x', events: ['deployment.live'] }, '/url'],
  ];
  test.each(invalid)('%s is a 422 pointing at the field', async (_, body, path) => {
    const res = await create(body);
    expect(res.status).toBe(422);
    const error = await errorOf(res);
    expect(error.code).toBe('validation_error');
    expect(error.issues?.map((i) => i.path)).toContain(path);
  });

  test('a project that does not exist is a 404', async () => {
    const res = await create({ url: URL_OK, events: ['deployment.live'], project: 'nope' });
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toBe('No project named "nope"');
  });

  test('only unrestricted admin tokens may touch webhooks', async () => {
    const deploy = t.token({ name: 'ci', scope: 'deploy' });
    const limitedAdmin = t.token({ name: 'tenant-admin', scope: 'admin', projects: ['web'] });
    for (const token of [deploy, limitedAdmin]) {
      const made = await create({ url: URL_OK, events: ['deployment.live'], project: 'web' }, token);
      expect(made.status).toBe(403);
      expect((await errorOf(made)).code).toBe('forbidden');
      expect((await t.req('GET', '/v1/webhooks', { token })).status).toBe(403);
    }
    expect((await t.req('GET', '/v1/webhooks', { token: null })).status).toBe(401);
  });

  test('unknown webhooks and deliveries are 404s in the envelope', async () => {
    const made = (await (await create({ url: URL_OK, events: ['deployment.live'] })).json()) as Hook;
    for (const path of [
      '/v1/webhooks/whk_nope',
      '/v1/webhooks/whk_nope/deliveries',
      `/v1/webhooks/${made.id}/deliveries/whd_nope`,
    ]) {
      const res = await t.req('GET', path);
      expect(res.status).toBe(404);
      expect((await errorOf(res)).code).toBe('not_found');
    }
    const res = await t.req('POST', `/v1/webhooks/${made.id}/deliveries/whd_nope/redeliver`);
    expect(res.status).toBe(404);
  });

  test('the list pages with a cursor, newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(((await (await create({ url: URL_OK, events: ['backup.done'] })).json()) as Hook).id);
    const first = (await (await t.req('GET', '/v1/webhooks?limit=2')).json()) as {
      data: Hook[];
      pagination: { next_cursor: string | null; has_more: boolean };
    };
    expect(first.data.map((h) => h.id)).toEqual([ids[2]!, ids[1]!]);
    expect(first.pagination.has_more).toBe(true);
    const second = (await (
      await t.req('GET', `/v1/webhooks?limit=2&cursor=${first.pagination.next_cursor}`)
    ).json()) as { data: Hook[] };
    expect(second.data[0]!.id).toBe(ids[0]!);
  });

  test('every route is in the OpenAPI document with its access rule', async () => {
    const spec = (await (await t.req('GET', '/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const routes: [string, string, unknown][] = [
      ['/v1/webhooks', 'post', { scope: 'admin' }],
      ['/v1/webhooks', 'get', { scope: 'admin' }],
      ['/v1/webhooks/{id}', 'delete', { scope: 'admin' }],
      ['/v1/webhooks/{id}/deliveries', 'get', { scope: 'admin' }],
      ['/v1/webhooks/{id}/deliveries/{delivery}/redeliver', 'post', { scope: 'admin' }],
      ['/v1/ops/dead-letter', 'get', { scope: 'read', project: 'filter' }],
      ['/v1/ops/dead-letter/{kind}/{id}/retry', 'post', { scope: 'deploy', project: 'filter' }],
    ];
    for (const [path, method, rule] of routes) {
      const op = spec.paths[path]?.[method];
      expect(op?.['x-slipway-access']).toEqual(rule);
      expect(Object.keys(op?.responses as object)).toContain('401');
    }
  });
});
