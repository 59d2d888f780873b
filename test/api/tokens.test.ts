import { afterAll, describe, expect, test } from 'bun:test';
import { hashToken } from '../../src/tokens/format.ts';
import { errorOf, makeTestApp, TEST_ACTOR } from '../helpers/app.ts';

const t = makeTestApp();
afterAll(() => t.close());

describe('/v1/tokens', () => {
  test('minting returns the secret once and stores only its SHA-256', async () => {
    const res = await t.req('POST', '/v1/tokens', { body: { name: 'ci', scope: 'deploy', projects: ['web', 'api'] } });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Record<string, unknown> & { token: string; id: string };
    expect(created.token).toMatch(/^slw_[0-9A-Za-z]{38}$/);
    expect(created).toMatchObject({
      name: 'ci',
      scope: 'deploy',
      projects: ['api', 'web'],
      revoked_at: null,
      last_used_at: null,
    });
    expect(created.id).toMatch(/^tok_[0-9a-z]{26}$/);

    const row = t.deps.db.prepare('SELECT * FROM tokens WHERE id = ?').get(created.id) as Record<string, string>;
    expect(row.hash).toBe(hashToken(created.token));
    expect(JSON.stringify(row)).not.toContain(created.token);

    const list = (await (await t.req('GET', '/v1/tokens')).json()) as { data: Record<string, unknown>[] };
    const listed = list.data.find((x) => x.id === created.id)!;
    expect(listed).toBeDefined();
    expect(listed.token).toBeUndefined();
    expect(listed.hint).toBe(`${created.token.slice(0, 8)}…`);
  });

  test('GET /v1/me describes the calling token', async () => {
    const secret = t.token({ name: 'reader', scope: 'read', projects: ['web'] });
    const res = await t.req('GET', '/v1/me', { token: secret });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: 'reader', scope: 'read', projects: ['web'] });
  });

  test('a token with a wrong checksum is refused as malformed', async () => {
    const secret = t.token({ name: 'typo', scope: 'read' });
    const last = secret.at(-1) === 'a' ? 'b' : 'a';
    const res = await t.req('GET', '/v1/me', { token: secret.slice(0, -1) + last });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="slipway"');
    expect((await errorOf(res)).message).toBe(
      'The bearer token is malformed: expected slw_ followed by 38 letters and digits',
    );
  });

  test('revocation takes effect on the very next request', async () => {
    const minted = t.deps.tokens.mint(TEST_ACTOR, { name: 'short-lived', scope: 'read' });
    expect((await t.req('GET', '/v1/me', { token: minted.token })).status).toBe(200);
    const del = await t.req('DELETE', `/v1/tokens/${minted.id}`);
    expect(del.status).toBe(200);
    expect(((await del.json()) as { revoked_at: string }).revoked_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    const after = await t.req('GET', '/v1/me', { token: minted.token });
    expect(after.status).toBe(401);
    expect((await errorOf(after)).message).toBe('The bearer token has been revoked');
    const again = await t.req('DELETE', `/v1/tokens/${minted.id}`);
    expect(again.status).toBe(409);
    expect((await errorOf(again)).code).toBe('conflict');
  });

  test('revoking an unknown token answers 404', async () => {
    const res = await t.req('DELETE', '/v1/tokens/tok_doesnotexist');
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toBe('No token with id "tok_doesnotexist"');
  });

  test('an expired token is refused', async () => {
    const minted = t.deps.tokens.mint(TEST_ACTOR, {
      name: 'expiring',
      scope: 'read',
      expires_at: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(t.deps.tokens.authenticate(minted.token, Date.now())).toMatchObject({ name: 'expiring' });
    expect(t.deps.tokens.authenticate(minted.token, Date.now() + 61_000)).toBe('expired');
  });

  test('an expiry in the past is rejected with 422', async () => {
    const res = await t.req('POST', '/v1/tokens', {
      body: { name: 'old', scope: 'read', expires_at: '2001-01-01T00:00:00Z' },
    });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).issues).toEqual([{ path: '/expires_at', message: 'Expected a time in the future' }]);
  });

  test('an unknown scope is rejected with 422', async () => {
    const res = await t.req('POST', '/v1/tokens', { body: { name: 'x', scope: 'root' } });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).issues).toEqual([
      { path: '/scope', message: 'Expected one of "read", "deploy", "admin"' },
    ]);
  });

  test('last_used_at is written at most once a minute per token', async () => {
    const minted = t.deps.tokens.mint(TEST_ACTOR, { name: 'busy', scope: 'read' });
    const lastUsed = () =>
      (
        t.deps.db.prepare('SELECT last_used_at FROM tokens WHERE id = ?').get(minted.id) as {
          last_used_at: string | null;
        }
      ).last_used_at;
    const start = Date.parse('2030-01-01T00:00:00Z');
    t.deps.tokens.authenticate(minted.token, start);
    expect(lastUsed()).toBe('2030-01-01T00:00:00.000Z');
    t.deps.tokens.authenticate(minted.token, start + 30_000);
    expect(lastUsed()).toBe('2030-01-01T00:00:00.000Z');
    t.deps.tokens.authenticate(minted.token, start + 61_000);
    expect(lastUsed()).toBe('2030-01-01T00:01:01.000Z');
  });

  test('lists paginate by creation order', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.req('GET', `/v1/tokens?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as {
        data: { id: string }[];
        pagination: { next_cursor: string | null; has_more: boolean };
      };
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((d) => d.id));
      cursor = page.pagination.next_cursor;
      expect(page.pagination.has_more).toBe(cursor !== null);
    } while (cursor);
    const all = (t.deps.db.prepare('SELECT id FROM tokens ORDER BY id').all() as { id: string }[]).map((r) => r.id);
    expect(seen).toEqual(all);
  });
});
