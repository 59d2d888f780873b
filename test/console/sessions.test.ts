import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { errorOf, makeTestApp, TEST_ACTOR, type TestApp } from '../helpers/app.ts';

const ORIGIN = 'http://localhost';
/** What the console sends with a change: a same-origin fetch and the custom header. */
const CONSOLE = { origin: ORIGIN, 'sec-fetch-site': 'same-origin', 'x-slipway-csrf': '1' };

let t: TestApp;
beforeAll(() => {
  t = makeTestApp({ SLIPWAY_CONSOLE_SESSION_SECONDS: '600' });
});
afterAll(() => t.close());

/** Signs in with `body` and returns the response and the cookie pair to send back. */
async function signIn(body: unknown, headers: Record<string, string> = CONSOLE) {
  const res = await t.req('POST', '/v1/sessions', { token: null, body, headers });
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { res, setCookie, cookie: setCookie.split(';')[0] ?? '' };
}

/** A request with only the cookie (no bearer token). */
function withCookie(
  method: string,
  path: string,
  cookie: string,
  headers: Record<string, string> = {},
  body?: unknown,
) {
  return t.req(method, path, { token: null, headers: { cookie, ...headers }, body });
}

describe('signing in', () => {
  test('sets an HttpOnly, SameSite=Strict cookie that expires, without Secure over plain HTTP', async () => {
    const { res, setCookie } = await signIn({ token: t.adminToken });
    expect(res.status).toBe(201);
    expect(setCookie).toMatch(/^slipway_session=[0-9a-z]{43}; Path=\/; Max-Age=(599|600); HttpOnly; SameSite=Strict$/);
    const body = (await res.json()) as { id: string; principal: { name: string; scope: string } };
    expect(body.id).toMatch(/^ses_/);
    expect(body.principal).toMatchObject({ name: 'admin', scope: 'admin' });
    expect(JSON.stringify(body)).not.toContain(setCookie.split(';')[0]!.split('=')[1]!);
  });

  test('over HTTPS (through the edge) names the cookie __Host- and marks it Secure; only that one counts there', async () => {
    const https = { 'x-forwarded-proto': 'https' };
    const { setCookie, cookie } = await signIn({ token: t.adminToken }, { ...CONSOLE, ...https });
    expect(setCookie).toMatch(
      /^__Host-slipway_session=[0-9a-z]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict; Secure$/,
    );
    expect((await withCookie('GET', '/v1/me', cookie, https)).status).toBe(200);
    // A cookie without the prefix could have been planted by a sibling subdomain: not accepted over HTTPS.
    const plain = cookie.replace('__Host-', '');
    expect((await withCookie('GET', '/v1/me', plain, https)).status).toBe(401);
    expect((await withCookie('GET', '/v1/me', plain)).status).toBe(200);
  });

  test('refuses a wrong, malformed or revoked token with 401 and sets no cookie', async () => {
    const revoked = t.token({ name: 'gone', scope: 'admin' });
    const id = (await (await t.req('GET', '/v1/me', { token: revoked })).json()) as { id: string };
    await t.req('DELETE', `/v1/tokens/${id.id}`);
    for (const [token, message] of [
      ['slw_nope', 'Cannot sign in: that is not an API token (expected slw_ followed by 38 letters and digits)'],
      [revoked, 'Cannot sign in: the API token has been revoked'],
    ] as const) {
      const { res, setCookie } = await signIn({ token });
      expect(res.status).toBe(401);
      expect((await errorOf(res)).message).toBe(message);
      expect(setCookie).toBe('');
    }
  });

  test('refuses a cross-site sign-in and one without the CSRF header (login CSRF)', async () => {
    const cross = await signIn({ token: t.adminToken }, { origin: 'http://evil.example', 'x-slipway-csrf': '1' });
    expect(cross.res.status).toBe(403);
    expect((await errorOf(cross.res)).message).toContain('Cross-site request refused');
    const bare = await signIn({ token: t.adminToken }, { 'sec-fetch-site': 'same-origin' });
    expect(bare.res.status).toBe(403);
    expect((await errorOf(bare.res)).message).toContain('X-Slipway-Csrf');
    expect(cross.setCookie + bare.setCookie).toBe('');
  });

  test('is recorded in the activity log, as is signing out', async () => {
    const { cookie, res } = await signIn({ token: t.adminToken });
    const { id } = (await res.json()) as { id: string };
    expect((await withCookie('DELETE', '/v1/sessions/current', cookie, CONSOLE)).status).toBe(200);
    const log = (await (await t.req('GET', '/v1/activity?limit=100')).json()) as {
      data: { action: string; target: string; token: { name: string } }[];
    };
    const mine = log.data.filter((a) => a.target === id).map((a) => `${a.action} by ${a.token.name}`);
    expect(mine).toEqual(['session.end by admin', 'session.create by admin']);
  });
});

describe('the session cookie', () => {
  test("authenticates /v1 reads with the token's scope and project limits", async () => {
    await t.req('POST', '/v1/projects', { body: { name: 'alpha' } });
    await t.req('POST', '/v1/projects', { body: { name: 'beta' } });
    const limited = t.token({ name: 'alpha-reader', scope: 'read', projects: ['alpha'] });
    const { cookie } = await signIn({ token: limited });
    const me = (await (await withCookie('GET', '/v1/me', cookie)).json()) as { scope: string; projects: string[] };
    expect(me).toMatchObject({ name: 'alpha-reader', scope: 'read', projects: ['alpha'] });
    const overview = (await (await withCookie('GET', '/v1/overview', cookie)).json()) as { data: { name: string }[] };
    expect(overview.data.map((p) => p.name)).toEqual(['alpha']);
    expect((await withCookie('GET', '/v1/projects/beta', cookie)).status).toBe(403);
    const change = await withCookie('POST', '/v1/projects/alpha/restart', cookie, CONSOLE);
    expect(change.status).toBe(403);
    expect((await errorOf(change)).message).toBe('Token "alpha-reader" has scope "read"; this needs "deploy"');
  });

  test('needs a same-origin request and the CSRF header for every change; bearer tokens need neither', async () => {
    const { cookie } = await signIn({ token: t.adminToken });
    const cases: [Record<string, string>, number][] = [
      [{ origin: 'http://evil.example', 'x-slipway-csrf': '1' }, 403],
      [{ 'sec-fetch-site': 'cross-site', 'x-slipway-csrf': '1' }, 403],
      [{ 'sec-fetch-site': 'same-site', 'x-slipway-csrf': '1' }, 403],
      [{ 'x-slipway-csrf': '1' }, 403],
      [{ origin: ORIGIN }, 403],
      [{ 'sec-fetch-site': 'same-origin' }, 403],
      [{ origin: ORIGIN, 'x-slipway-csrf': '1' }, 201],
      [CONSOLE, 201],
    ];
    let n = 0;
    for (const [headers, status] of cases) {
      const res = await withCookie('POST', '/v1/projects', cookie, headers, { name: `csrf-${n++}` });
      expect(`${JSON.stringify(headers)} → ${res.status}`).toBe(`${JSON.stringify(headers)} → ${status}`);
      if (status === 403) expect((await errorOf(res)).code).toBe('forbidden');
    }
    const listed = (await (await t.req('GET', '/v1/projects?limit=100')).json()) as { data: { name: string }[] };
    expect(listed.data.map((p) => p.name).filter((p) => p.startsWith('csrf-'))).toEqual(['csrf-6', 'csrf-7']);
    expect((await t.req('POST', '/v1/projects', { body: { name: 'by-bearer' } })).status).toBe(201);
  });

  test('stops working when its token is revoked', async () => {
    const doomed = t.token({ name: 'doomed', scope: 'deploy' });
    const { cookie } = await signIn({ token: doomed });
    expect((await withCookie('GET', '/v1/me', cookie)).status).toBe(200);
    const me = (await (await t.req('GET', '/v1/me', { token: doomed })).json()) as { id: string };
    expect((await t.req('DELETE', `/v1/tokens/${me.id}`)).status).toBe(200);
    const after = await withCookie('GET', '/v1/me', cookie);
    expect(after.status).toBe(401);
    expect((await errorOf(after)).code).toBe('unauthorized');
  });

  test('ends at sign-out: the cookie is cleared and no longer accepted', async () => {
    const { cookie } = await signIn({ token: t.adminToken });
    const out = await withCookie('DELETE', '/v1/sessions/current', cookie, CONSOLE);
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toBe('slipway_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict');
    expect((await withCookie('GET', '/v1/me', cookie)).status).toBe(401);
  });

  test('sign-out without a session cookie is a 400', async () => {
    const res = await t.req('DELETE', '/v1/sessions/current');
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toBe(
      'Cannot sign out: this request was not made with a console session cookie',
    );
  });

  test('expires after the configured time, and never outlives its token', async () => {
    const opened = t.deps.sessions.signIn(TEST_ACTOR, { token: t.adminToken });
    const now = Date.now();
    expect(t.deps.sessions.authenticate(opened.secret, now + 599_000)).toHaveProperty('principal');
    expect(t.deps.sessions.authenticate(opened.secret, now + 601_000)).toBe('expired');
    const soon = new Date(Date.now() + 120_000).toISOString();
    const short = t.token({ name: 'short', scope: 'read', expires_at: soon });
    const { res, setCookie } = await signIn({ token: short });
    expect(((await res.json()) as { expires_at: string }).expires_at).toBe(soon);
    expect(Number(/Max-Age=(\d+)/.exec(setCookie)?.[1])).toBeLessThanOrEqual(120);
  });

  test('a forged or mangled cookie is no sign-in', async () => {
    for (const cookie of ['slipway_session=abc', `slipway_session=${'a'.repeat(43)}`, 'slipway_session=']) {
      expect((await withCookie('GET', '/v1/me', cookie)).status).toBe(401);
    }
  });
});

describe('login links', () => {
  test('sign in once as admin, and never again', async () => {
    const link = t.deps.sessions.createLink(TEST_ACTOR);
    const first = await signIn({ link: link.code });
    expect(first.res.status).toBe(201);
    const me = (await (await withCookie('GET', '/v1/me', first.cookie)).json()) as { name: string; scope: string };
    expect(me).toMatchObject({ name: 'console-link', scope: 'admin' });
    const again = await signIn({ link: link.code });
    expect(again.res.status).toBe(401);
    expect((await errorOf(again.res)).message).toBe(
      'The login link is not valid: it was used already, has expired or is mistyped',
    );
  });

  test('expire after a few minutes', async () => {
    const link = t.deps.sessions.createLink(TEST_ACTOR);
    t.deps.db.prepare("UPDATE login_links SET expires_at = '2000-01-01T00:00:00.000Z'").run();
    expect((await signIn({ link: link.code })).res.status).toBe(401);
    expect(Date.parse(t.deps.sessions.createLink(TEST_ACTOR).expires_at) - Date.now()).toBeLessThanOrEqual(300_000);
  });
});

describe('the console page', () => {
  test('is served at /console and below, with a strict content security policy', async () => {
    for (const path of ['/console', '/console/projects/web/env']) {
      const res = await t.req('GET', path, { token: null });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(await res.text()).toContain('<script type="module" src="/console/assets/app.js?v=');
    }
    const js = await t.req('GET', '/console/assets/app.js', { token: null });
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const text = await js.text();
    expect(text).toContain('/v1/sessions');
    expect(Bun.gzipSync(text).length).toBeLessThan(40_000);
  });

  test('lists 100 projects at a glance in well under 300 ms', async () => {
    const fresh = makeTestApp();
    try {
      for (let i = 0; i < 100; i++) fresh.deps.projects.create(TEST_ACTOR, { name: `p${String(i).padStart(3, '0')}` });
      await fresh.req('GET', '/console', { token: null });
      const started = performance.now();
      const [page, list] = await Promise.all([
        fresh.req('GET', '/console', { token: null }),
        fresh.req('GET', '/v1/overview?limit=100'),
      ]);
      const ms = performance.now() - started;
      expect(page.status).toBe(200);
      const body = (await list.json()) as { data: { name: string; live: null; domains: string[] }[] };
      expect(body.data).toHaveLength(100);
      expect(body.data[0]).toMatchObject({ name: 'p000', live: null, last: null, domains: [] });
      expect(ms).toBeLessThan(300);
    } finally {
      fresh.close();
    }
  });
});
