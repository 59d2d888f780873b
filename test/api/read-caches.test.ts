/**
 * The API keeps tokens and projects it has read while the database is unchanged (ReadCache), and
 * checks responses with the compiled validator instead of TypeBox's Encode. These are the promises
 * that makes: nothing a cache holds outlives the change that should end it, and a response off its
 * schema is still never sent.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { errorOf, makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import type { ProjectView } from '../../src/projects/service.ts';

const t = makeTestApp();
afterAll(() => t.close());

/** Presents `token` a few times, so that whatever can be cached is. */
async function warm(token: string, path = '/v1/me'): Promise<void> {
  for (let i = 0; i < 3; i++) expect((await t.req('GET', path, { token })).status).toBe(200);
}

describe('a token the API has seen before', () => {
  test('is refused on the very next request once revoked', async () => {
    const minted = t.deps.tokens.mint(TEST_ACTOR, { name: 'warm', scope: 'read' });
    await warm(minted.token);
    expect((await t.req('DELETE', `/v1/tokens/${minted.id}`)).status).toBe(200);
    const after = await t.req('GET', '/v1/me', { token: minted.token });
    expect(after.status).toBe(401);
    expect((await errorOf(after)).message).toBe('The bearer token has been revoked');
  });

  test('is refused as soon as its expiry passes, without any write in between', async () => {
    const minted = t.deps.tokens.mint(TEST_ACTOR, {
      name: 'expiring-warm',
      scope: 'read',
      expires_at: new Date(Date.now() + 120_000).toISOString(),
    });
    await warm(minted.token);
    const now = Date.now();
    expect(t.deps.tokens.authenticate(minted.token, now)).toMatchObject({ name: 'expiring-warm' });
    expect(t.deps.tokens.authenticate(minted.token, now + 121_000)).toBe('expired');
  });

  test('loses a project it was limited to on the next request after the project is deleted', async () => {
    t.deps.projects.create(TEST_ACTOR, { name: 'gone' });
    const limited = t.token({ name: 'only-gone', scope: 'deploy', projects: ['gone'] });
    await warm(limited, '/v1/projects/gone');
    expect((await t.req('DELETE', '/v1/projects/gone')).status).toBe(204);
    t.deps.projects.create(TEST_ACTOR, { name: 'gone' });
    const res = await t.req('GET', '/v1/projects/gone', { token: limited });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toBe('Token "only-gone" may not access project "gone"');
  });

  test('yields a principal that no request can change for the next one', async () => {
    const secret = t.token({ name: 'frozen', scope: 'read', projects: ['web'] });
    const principal = t.deps.tokens.authenticate(secret);
    if (typeof principal === 'string') throw new Error(`refused: ${principal}`);
    expect(() => principal.projects!.push('other')).toThrow();
    expect(() => Object.assign(principal, { scope: 'admin' })).toThrow();
    expect(t.deps.tokens.authenticate(secret)).toMatchObject({ scope: 'read', projects: ['web'] });
  });
});

describe('GET /v1/projects/{name} after a change', () => {
  test('shows a PATCH at once', async () => {
    t.deps.projects.create(TEST_ACTOR, { name: 'resized' });
    await warm(t.adminToken, '/v1/projects/resized');
    expect((await t.req('PATCH', '/v1/projects/resized', { body: { memory_mb: 256 } })).status).toBe(200);
    const res = await t.req('GET', '/v1/projects/resized');
    expect(((await res.json()) as ProjectView).memory_mb).toBe(256);
  });

  test('answers 404 at once after a DELETE', async () => {
    t.deps.projects.create(TEST_ACTOR, { name: 'deleted' });
    await warm(t.adminToken, '/v1/projects/deleted');
    expect((await t.req('DELETE', '/v1/projects/deleted')).status).toBe(204);
    const res = await t.req('GET', '/v1/projects/deleted');
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toBe('No project named "deleted"');
  });
});

describe('a response off its schema', () => {
  test('is never sent: the client gets internal_error instead', async () => {
    t.deps.projects.create(TEST_ACTOR, { name: 'broken' });
    const get = t.deps.projects.get;
    t.deps.projects.get = (name) => ({ ...get(name), instances: 'many' as unknown as number });
    try {
      const res = await t.req('GET', '/v1/projects/broken');
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(JSON.parse(text).error.code).toBe('internal_error');
      expect(text).not.toContain('many');
    } finally {
      t.deps.projects.get = get;
    }
    expect((await t.req('GET', '/v1/projects/broken')).status).toBe(200);
  });
});
