/**
 * The fast lane answers hot GET reads from Bun's router, without Elysia. It must not become a
 * second API: the same requests sent to an app listening with the lane, to an app over the same
 * database listening without it, and through `app.handle()`, must get the same status, body and
 * headers (except the request id and Date). Each case also says whether the lane must answer it
 * itself or hand it to Elysia, so the comparison cannot pass by the lane never running.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createApp, FAST_READS, type App } from '../../src/app.ts';
import { routeContract } from '../../src/api/fast-lane/contract.ts';
import { fastLaneRoutes } from '../../src/api/fast-lane/lane.ts';
import { ForbiddenError } from '../../src/errors.ts';
import { makeTestApp, TEST_ACTOR, type TestApp } from '../helpers/app.ts';
import { queueDeployment } from '../helpers/deployments.ts';

interface Case {
  name: string;
  path: string;
  method?: string;
  /** A token name from `tokens`, `cookie` for the console's session cookie, or a literal Authorization header value with `raw:`. */
  auth?: string;
  headers?: Record<string, string>;
  /** Whether the lane answers the request itself (else it hands it to Elysia). */
  lane: boolean;
  status: number;
}

/** An app listening with its fast lane, counting the requests the lane answered itself. */
interface Served {
  app: App;
  url: string;
  answered: () => number;
}

/**
 * Listens `app` on loopback; with `lane: false`, without the fast lane's routes. The lane decides
 * synchronously whether to hand a request on to Elysia's `app.fetch`: a call of the lane that did
 * not call it was answered by the lane.
 */
function listen(app: App, lane: boolean): Served {
  const serve = app.config.serve as { routes: Record<string, { GET: (...a: unknown[]) => unknown }> };
  let answered = 0;
  if (!lane) serve.routes = {};
  for (const route of Object.values(serve.routes)) {
    const inner = route.GET;
    route.GET = (...args) => {
      // Elysia assigns its compiled handler to `fetch`, which its type declares read-only.
      const writable = app as { fetch: App['fetch'] };
      const fetch = app.fetch;
      let handedOn = false;
      writable.fetch = (request: Request) => {
        handedOn = true;
        return fetch.call(app, request);
      };
      try {
        return inner(...args);
      } finally {
        writable.fetch = fetch;
        if (!handedOn) answered++;
      }
    };
  }
  app.listen({ hostname: '127.0.0.1', port: 0 });
  return { app, url: `http://127.0.0.1:${app.server!.port}`, answered: () => answered };
}

/** A response reduced to what must match: status, body with the request id blanked, and headers. */
async function shape(res: Response, skip: readonly string[]) {
  const id = res.headers.get('x-request-id');
  const text = await res.text();
  const headers = Object.fromEntries(
    [...res.headers].filter(([k]) => !skip.includes(k)).map(([k, v]) => [k, withoutReset(k, v)]),
  );
  return { status: res.status, body: id ? text.replaceAll(id, '<id>') : text, headers };
}

/**
 * `value` with the seconds to the rate window's end checked (0–60) and replaced by `<reset>`: the
 * apps compared keep limiters whose windows began moments apart, so a second's boundary between two
 * answers may make them differ by one.
 */
function withoutReset(name: string, value: string): string {
  const inWindow = (seconds: string) => {
    expect(Number(seconds)).toBeWithin(0, 61);
    return '<reset>';
  };
  if (name === 'x-ratelimit-reset' || name === 'retry-after') return inWindow(value);
  if (name === 'ratelimit') return value.replace(/reset=(\d+)/, (_, seconds: string) => `reset=${inWindow(seconds)}`);
  return value;
}

const tokens: Record<string, string> = {};

function authHeaders(c: Case): Record<string, string> {
  const headers: Record<string, string> = { ...c.headers };
  if (c.auth === 'cookie') headers.cookie = tokens.cookie!;
  else if (c.auth?.startsWith('raw:')) headers.authorization = c.auth.slice(4);
  else if (c.auth) headers.authorization = `Bearer ${tokens[c.auth]}`;
  return headers;
}

let t: TestApp;
let withLane: Served;
let withoutLane: Served;
let handled: App;
/** The id of a deployment of web; `{dep}` in a case's path stands for it. */
let deployment = '';

beforeAll(() => {
  t = makeTestApp();
  t.deps.projects.create(TEST_ACTOR, { name: 'web' });
  t.deps.projects.create(TEST_ACTOR, { name: 'other' });
  t.deps.projects.create(TEST_ACTOR, { name: 'broken' });
  // instances below the schema's minimum: the view is off its response schema.
  t.deps.db.prepare("UPDATE projects SET instances = 0 WHERE name = 'broken'").run();
  const mint = (name: string, scope: 'read' | 'deploy' | 'admin', extra = {}) =>
    t.deps.tokens.mint(TEST_ACTOR, { name, scope, ...extra });
  tokens.admin = t.adminToken;
  tokens.read = mint('reader', 'read').token;
  tokens.deploy = mint('deployer', 'deploy').token;
  tokens.webOnly = mint('web only', 'read', { projects: ['web'] }).token;
  tokens.otherOnly = mint('other only', 'deploy', { projects: ['other'] }).token;
  const revoked = mint('revoked', 'admin');
  t.deps.tokens.revoke(TEST_ACTOR, revoked.id);
  tokens.revoked = revoked.token;
  const expired = mint('expired', 'admin', { expires_at: new Date(Date.now() + 60_000).toISOString() });
  t.deps.db.prepare('UPDATE tokens SET expires_at = ? WHERE id = ?').run('2020-01-01T00:00:00.000Z', expired.id);
  tokens.expired = expired.token;
  tokens.unknown = `slw_${'a'.repeat(38)}`;
  deployment = queueDeployment(t.deps, 'web').id;
  const session = t.deps.sessions.signIn(TEST_ACTOR, { token: tokens.webOnly! });
  tokens.cookie = `slipway_session=${session.secret}`;
  withLane = listen(createApp(t.deps), true);
  withoutLane = listen(createApp(t.deps), false);
  handled = createApp(t.deps);
});

afterAll(async () => {
  await withLane?.app.stop(true);
  await withoutLane?.app.stop(true);
  t?.close();
});

const CASES: Case[] = [
  { name: 'an admin token', path: '/v1/projects/web', auth: 'admin', lane: true, status: 200 },
  { name: 'a read token', path: '/v1/projects/web', auth: 'read', lane: true, status: 200 },
  { name: 'a deploy token', path: '/v1/projects/web', auth: 'deploy', lane: true, status: 200 },
  { name: 'a token limited to the project', path: '/v1/projects/web', auth: 'webOnly', lane: true, status: 200 },
  { name: 'a token of another project', path: '/v1/projects/web', auth: 'otherOnly', lane: true, status: 403 },
  { name: 'no token', path: '/v1/projects/web', lane: true, status: 401 },
  { name: 'a malformed token', path: '/v1/projects/web', auth: 'raw:Bearer slw_nope', lane: true, status: 401 },
  { name: 'another scheme', path: '/v1/projects/web', auth: 'raw:Basic YWRtaW46eA==', lane: true, status: 401 },
  { name: 'an empty Authorization', path: '/v1/projects/web', auth: 'raw:', lane: true, status: 401 },
  { name: 'an unknown token', path: '/v1/projects/web', auth: 'unknown', lane: true, status: 401 },
  { name: 'a revoked token', path: '/v1/projects/web', auth: 'revoked', lane: true, status: 401 },
  { name: 'an expired token', path: '/v1/projects/web', auth: 'expired', lane: true, status: 401 },
  { name: 'an unknown project', path: '/v1/projects/nope', auth: 'admin', lane: true, status: 404 },
  { name: 'an unknown project, limited token', path: '/v1/projects/nope', auth: 'webOnly', lane: true, status: 403 },
  { name: 'a view off its schema', path: '/v1/projects/broken', auth: 'admin', lane: true, status: 500 },
  { name: 'a query string', path: '/v1/projects/web?x=1&x=2', auth: 'read', lane: true, status: 200 },
  { name: 'a malformed query', path: '/v1/projects/web?%zz=%', auth: 'read', lane: true, status: 200 },
  { name: 'percent-encoded letters', path: '/v1/projects/w%65b', auth: 'read', lane: true, status: 200 },
  {
    name: 'a conditional request',
    path: '/v1/projects/web',
    auth: 'read',
    headers: { 'if-none-match': '*' },
    lane: true,
    status: 200,
  },
  {
    name: "the client's request id",
    path: '/v1/projects/web',
    auth: 'read',
    headers: { 'x-request-id': 'mine-1' },
    lane: true,
    status: 200,
  },
  {
    name: 'an insane request id',
    path: '/v1/projects/web',
    auth: 'read',
    headers: { 'x-request-id': 'a b' },
    lane: true,
    status: 200,
  },
  { name: 'upper case', path: '/v1/projects/Web', auth: 'read', lane: false, status: 422 },
  { name: 'upper case, no token', path: '/v1/projects/Web', lane: false, status: 401 },
  { name: 'an encoded slash', path: '/v1/projects/a%2Fb', auth: 'read', lane: false, status: 422 },
  { name: 'a trailing slash', path: '/v1/projects/web/', auth: 'read', lane: false, status: 200 },
  { name: 'a name too long', path: `/v1/projects/a${'b'.repeat(63)}`, auth: 'read', lane: false, status: 422 },
  { name: 'HEAD', path: '/v1/projects/web', method: 'HEAD', auth: 'read', lane: false, status: 200 },
  {
    name: 'PATCH with a read token',
    path: '/v1/projects/web',
    method: 'PATCH',
    auth: 'read',
    lane: false,
    status: 403,
  },
  { name: 'DELETE without a token', path: '/v1/projects/web', method: 'DELETE', lane: false, status: 401 },
  { name: 'POST (no such route)', path: '/v1/projects/web', method: 'POST', auth: 'admin', lane: false, status: 405 },
  { name: "the console's session cookie", path: '/v1/projects/web', auth: 'cookie', lane: true, status: 200 },
  {
    name: "the console's cookie, another project",
    path: '/v1/projects/other',
    auth: 'cookie',
    lane: true,
    status: 403,
  },
  {
    name: 'an unknown session cookie',
    path: '/v1/projects/web',
    headers: { cookie: 'slipway_session=nope' },
    lane: true,
    status: 401,
  },
  { name: 'an admin token', path: '/v1/me', auth: 'admin', lane: true, status: 200 },
  { name: "the console's session cookie", path: '/v1/me', auth: 'cookie', lane: true, status: 200 },
  { name: 'a limited token', path: '/v1/me', auth: 'webOnly', lane: true, status: 200 },
  { name: 'no token', path: '/v1/me', lane: true, status: 401 },
  { name: 'a revoked token', path: '/v1/me', auth: 'revoked', lane: true, status: 401 },
  { name: 'a trailing slash', path: '/v1/me/', auth: 'read', lane: false, status: 200 },
  { name: 'a read token', path: '/v1/projects/web/deployments/{dep}', auth: 'read', lane: true, status: 200 },
  {
    name: 'a token limited to the project',
    path: '/v1/projects/web/deployments/{dep}',
    auth: 'webOnly',
    lane: true,
    status: 200,
  },
  {
    name: 'a token of another project',
    path: '/v1/projects/web/deployments/{dep}',
    auth: 'otherOnly',
    lane: true,
    status: 403,
  },
  { name: 'another project', path: '/v1/projects/other/deployments/{dep}', auth: 'admin', lane: true, status: 404 },
  { name: 'an unknown id', path: '/v1/projects/web/deployments/dep_nope', auth: 'admin', lane: true, status: 404 },
  { name: 'no token', path: '/v1/projects/web/deployments/{dep}', lane: true, status: 401 },
  { name: 'HEAD', path: '/v1/projects/web/deployments/{dep}', method: 'HEAD', auth: 'read', lane: false, status: 200 },
  { name: 'no token', path: '/v1/health', lane: true, status: 200 },
  { name: 'an admin token', path: '/v1/health', auth: 'admin', lane: true, status: 200 },
  { name: 'a malformed token', path: '/v1/health', auth: 'raw:Bearer slw_nope', lane: true, status: 200 },
  { name: 'a revoked token', path: '/v1/health', auth: 'revoked', lane: true, status: 200 },
  { name: "the console's session cookie", path: '/v1/health', auth: 'cookie', lane: true, status: 200 },
  { name: 'a query string', path: '/v1/health?verbose=1', lane: true, status: 200 },
  { name: 'a trailing slash', path: '/v1/health/', lane: false, status: 200 },
  { name: 'HEAD', path: '/v1/health', method: 'HEAD', lane: false, status: 200 },
  { name: 'POST (no such route)', path: '/v1/health', method: 'POST', lane: false, status: 405 },
  {
    name: 'a route the parameter would swallow',
    path: '/v1/projects/web/deployments/compare?from=1&to=1',
    auth: 'read',
    lane: false,
    status: 200,
  },
];

describe('the fast lane and Elysia', () => {
  for (const c of CASES) {
    test(`answer ${c.method ?? 'GET'} ${c.path} with ${c.name} alike (${c.lane ? 'the lane answers' : 'Elysia answers'})`, async () => {
      const init = { method: c.method ?? 'GET', headers: authHeaders(c) };
      const path = c.path.replace('{dep}', deployment);
      const before = withLane.answered();
      const fast = await shape(await fetch(withLane.url + path, init), ['x-request-id', 'date']);
      expect(withLane.answered() - before).toBe(c.lane ? 1 : 0);
      const slow = await shape(await fetch(withoutLane.url + path, init), ['x-request-id', 'date']);
      expect(withoutLane.answered()).toBe(0);
      expect(fast.status).toBe(c.status);
      expect(fast).toEqual(slow);

      // app.handle() has no socket (its per-IP key differs) nor Content-Length: the counters aside, the same answer.
      const counters = ['x-request-id', 'date', 'content-length', 'x-ratelimit-remaining', 'ratelimit'];
      const viaHandle = await shape(await handled.handle(new Request(withLane.url + path, init)), counters);
      const { 'content-length': _, 'x-ratelimit-remaining': __, ratelimit: ___, ...fastHeaders } = fast.headers;
      expect({ ...fast, headers: fastHeaders }).toEqual(viaHandle);
    });
  }

  test('count a request against the same limit, whichever answers it', async () => {
    const remaining = async (url: string) =>
      Number(
        (await fetch(url, { headers: { authorization: `Bearer ${tokens.deploy}` } })).headers.get(
          'x-ratelimit-remaining',
        ),
      );
    const viaLane = await remaining(`${withLane.url}/v1/projects/web`);
    const viaElysia = await remaining(`${withLane.url}/v1/projects/web/`);
    expect(viaElysia).toBe(viaLane - 1);
  });
});

describe('a rate-limited caller', () => {
  test('gets the same 429, Retry-After included, from the lane and from Elysia', async () => {
    const limited = makeTestApp({ SLIPWAY_RATE_LIMIT_TOKEN: '2', SLIPWAY_RATE_LIMIT_IP: '2' });
    const a = listen(createApp(limited.deps), true);
    const b = listen(createApp(limited.deps), false);
    try {
      limited.deps.projects.create(TEST_ACTOR, { name: 'web' });
      const callers: Record<string, string>[] = [{ authorization: `Bearer ${limited.adminToken}` }, {}];
      for (const auth of callers) {
        const answers = [];
        for (let i = 0; i < 3; i++) {
          const fast = await shape(await fetch(`${a.url}/v1/projects/web`, { headers: auth }), [
            'x-request-id',
            'date',
          ]);
          const slow = await shape(await fetch(`${b.url}/v1/projects/web`, { headers: auth }), [
            'x-request-id',
            'date',
          ]);
          expect(fast).toEqual(slow);
          answers.push(fast.status);
        }
        expect(answers).toEqual([auth.authorization ? 200 : 401, auth.authorization ? 200 : 401, 429]);
      }
      expect(a.answered()).toBe(6);
    } finally {
      await a.app.stop(true);
      await b.app.stop(true);
      limited.close();
    }
  });
});

describe('the lane', () => {
  test("takes each route's access rule from the route itself", () => {
    expect(FAST_READS.map((path) => routeContract(handled, path).rule)).toEqual([
      { scope: 'read', project: 'param' },
      { scope: 'read', project: 'filter' },
      { scope: 'read', project: 'param' },
      'public',
    ]);
  });

  test('refuses a route whose query, hooks or missing route it would not reproduce', () => {
    expect(() => routeContract(handled, '/v1/projects')).toThrow('GET /v1/projects has a query schema');
    // The spec's route comes from the OpenAPI plugin: no access macro, so no transform hook.
    expect(() => routeContract(handled, '/v1/openapi.json')).toThrow('has 0 transform hook(s)');
    expect(() => routeContract(handled, '/v1/nothing/:here')).toThrow('no route GET /v1/nothing/:here');
  });

  test('labels a refusal made while admitting the request with its request id, as Elysia does', async () => {
    const refuse = () => {
      throw new ForbiddenError('Refused while admitting');
    };
    const routes = fastLaneRoutes(handled, ['/v1/projects/:name'], { admit: refuse, log: t.deps.log });
    const request = Object.assign(new Request(`${withLane.url}/v1/projects/web`), { params: { name: 'web' } });
    const route = routes['/v1/projects/:name'] as { GET: (...args: never[]) => Response };
    const res = route.GET(request as never, {} as never);
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { message: string; request_id: string } };
    expect(body.error.message).toBe('Refused while admitting');
    expect(res.headers.get('x-request-id')).toBe(body.error.request_id);
  });
});
