/**
 * The API's front (SLIPWAY_API_ENGINE=native) against Bun.serve listening itself: the same bytes on
 * a raw connection to each get the same bytes back, for the fast lane's reads (which the front
 * answers itself, from the head) and for everything it hands over: other routes and methods, heads
 * it does not take, and hostile framing (a lane read hidden in a body, CL/TE conflicts, obs-fold,
 * bare LF, oversized heads, pipelining across the hand-over). Each case also says how many of its
 * requests the front must answer itself, so the comparison cannot pass by the front never answering,
 * nor by it answering a request Bun.serve would have read differently.
 */
import { beforeAll, describe, expect, test } from 'bun:test';
import { TEST_ACTOR } from '../helpers/app.ts';
import { queueDeployment } from '../helpers/deployments.ts';
import { frontPair, head, normalised, rawExchange } from './front-helpers.ts';

const pair = frontPair();
const tokens: Record<string, string> = {};
let deployment = '';

beforeAll(() => {
  const { t } = pair;
  t.deps.projects.create(TEST_ACTOR, { name: 'web' });
  t.deps.projects.create(TEST_ACTOR, { name: 'other' });
  t.deps.projects.create(TEST_ACTOR, { name: 'broken' });
  // instances below the schema's minimum: the view is off its response schema.
  t.deps.db.prepare("UPDATE projects SET instances = 0 WHERE name = 'broken'").run();
  const mint = (name: string, scope: 'read' | 'deploy' | 'admin', extra = {}) =>
    t.deps.tokens.mint(TEST_ACTOR, { name, scope, ...extra });
  tokens.admin = t.adminToken;
  tokens.read = mint('reader', 'read').token;
  tokens.webOnly = mint('web only', 'read', { projects: ['web'] }).token;
  tokens.otherOnly = mint('other only', 'deploy', { projects: ['other'] }).token;
  const revoked = mint('revoked', 'admin');
  t.deps.tokens.revoke(TEST_ACTOR, revoked.id);
  tokens.revoked = revoked.token;
  const expired = mint('expired', 'admin', { expires_at: new Date(Date.now() + 60_000).toISOString() });
  t.deps.db.prepare('UPDATE tokens SET expires_at = ? WHERE id = ?').run('2020-01-01T00:00:00.000Z', expired.id);
  tokens.expired = expired.token;
  deployment = queueDeployment(t.deps, 'web').id;
  const session = t.deps.sessions.signIn(TEST_ACTOR, { token: tokens.webOnly! });
  tokens.cookie = `slipway_session=${session.secret}`;
});

interface Case {
  what: string;
  /** Chunks sent one after the other; `{admin}`, `{read}`… stand for tokens, `{dep}` for a deployment id. */
  send: string[];
  /** How many of its requests the front answers itself. */
  front: number;
  /** The status of the first answer. */
  status: number;
  /** Sends the bytes one at a time. */
  split?: boolean;
}

const H = 'Host: 127.0.0.1';
const get = (path: string, ...lines: string[]) => head(`GET ${path} HTTP/1.1`, H, ...lines);
const bearer = (name: string) => `Authorization: Bearer {${name}}`;
const web = '/v1/projects/web';

const LANE: Case[] = [
  { what: 'an admin token', send: [get(web, bearer('admin'))], front: 1, status: 200 },
  { what: 'a read token', send: [get(web, bearer('read'))], front: 1, status: 200 },
  { what: 'a token limited to the project', send: [get(web, bearer('webOnly'))], front: 1, status: 200 },
  { what: 'a token of another project', send: [get(web, bearer('otherOnly'))], front: 1, status: 403 },
  { what: 'no token', send: [get(web)], front: 1, status: 401 },
  { what: 'a malformed token', send: [get(web, 'Authorization: Bearer slw_nope')], front: 1, status: 401 },
  { what: 'another scheme', send: [get(web, 'Authorization: Basic YWRtaW46eA==')], front: 1, status: 401 },
  { what: 'an empty Authorization', send: [get(web, 'Authorization:')], front: 1, status: 401 },
  { what: 'a revoked token', send: [get(web, bearer('revoked'))], front: 1, status: 401 },
  { what: 'an expired token', send: [get(web, bearer('expired'))], front: 1, status: 401 },
  { what: 'an unknown project', send: [get('/v1/projects/nope', bearer('admin'))], front: 1, status: 404 },
  { what: 'a view off its schema', send: [get('/v1/projects/broken', bearer('admin'))], front: 1, status: 500 },
  { what: 'a query string', send: [get(`${web}?x=1&x=2`, bearer('read'))], front: 1, status: 200 },
  { what: "the client's request id", send: [get(web, bearer('read'), 'X-Request-Id: mine-1')], front: 1, status: 200 },
  { what: 'an insane request id', send: [get(web, bearer('read'), 'X-Request-Id: a\tb')], front: 1, status: 200 },
  {
    what: 'field names in another case, spaces around values',
    send: [get(web, 'aUtHoRiZaTiOn:   Bearer {admin}  ', 'Connection: keep-alive')],
    front: 1,
    status: 200,
  },
  { what: "the console's session cookie", send: [get(web, 'Cookie: {cookie}')], front: 1, status: 200 },
  {
    what: "the console's cookie, another project",
    send: [get('/v1/projects/other', 'Cookie: {cookie}')],
    front: 1,
    status: 403,
  },
  { what: 'the calling token', send: [get('/v1/me', bearer('webOnly'))], front: 1, status: 200 },
  { what: 'a deployment', send: [get(`${web}/deployments/{dep}`, bearer('read'))], front: 1, status: 200 },
  { what: 'the health check', send: [get('/v1/health')], front: 1, status: 200 },
  {
    what: 'three pipelined reads in one write',
    send: [get(web, bearer('admin')) + get('/v1/me', bearer('admin')) + get('/v1/health')],
    front: 3,
    status: 200,
  },
  {
    what: 'a read sent a byte at a time',
    send: [get(web, bearer('read'))],
    split: true,
    front: 1,
    status: 200,
  },
];

const HANDED_OVER: Case[] = [
  { what: 'percent-encoded letters', send: [get('/v1/projects/w%65b', bearer('read'))], front: 0, status: 200 },
  { what: 'a parameter its schema refuses', send: [get('/v1/projects/Web', bearer('read'))], front: 0, status: 422 },
  { what: 'an encoded slash', send: [get('/v1/projects/a%2Fb', bearer('read'))], front: 0, status: 422 },
  { what: 'a trailing slash', send: [get(`${web}/`, bearer('read'))], front: 0, status: 200 },
  { what: 'a dot segment', send: [get('/v1/projects/./web', bearer('read'))], front: 0, status: 200 },
  { what: 'a dot-dot segment', send: [get('/v1/x/../projects/web', bearer('read'))], front: 0, status: 200 },
  {
    what: 'an absolute-form target',
    send: [get('http://127.0.0.1/v1/projects/web', bearer('read'))],
    front: 0,
    status: 200,
  },
  {
    what: 'a route the parameter would swallow',
    send: [get(`${web}/deployments/compare?from=1&to=1`, bearer('read'))],
    front: 0,
    status: 200,
  },
  { what: 'a list (no lane route)', send: [get(`${web}/deployments`, bearer('read'))], front: 0, status: 200 },
  { what: 'HEAD', send: [head(`HEAD ${web} HTTP/1.1`, H, bearer('read'))], front: 0, status: 200 },
  {
    what: 'PATCH with a read token',
    send: [head(`PATCH ${web} HTTP/1.1`, H, bearer('read'), 'Content-Length: 0')],
    front: 0,
    status: 403,
  },
  { what: 'POST to a read', send: [head(`POST /v1/health HTTP/1.1`, H, 'Content-Length: 0')], front: 0, status: 405 },
  { what: 'Connection: close', send: [get(web, bearer('read'), 'Connection: close')], front: 0, status: 200 },
  { what: 'HTTP/1.0', send: [head(`GET ${web} HTTP/1.0`, bearer('read'))], front: 0, status: 200 },
  { what: 'Authorization twice', send: [get(web, bearer('read'), bearer('admin'))], front: 0, status: 401 },
  { what: 'Expect: 100-continue', send: [get(web, bearer('read'), 'Expect: 100-continue')], front: 0, status: 100 },
  {
    what: 'a WebSocket upgrade',
    send: [get(web, bearer('read'), 'Connection: Upgrade', 'Upgrade: websocket')],
    front: 0,
    status: 200,
  },
  {
    what: 'a read whose body hides another read',
    send: [
      `${get(web, bearer('read'), 'Content-Length: 72').slice(0, -2)}\r\n${get('/v1/me', bearer('admin')).padEnd(72, ' ')}`,
    ],
    front: 0,
    status: 200,
  },
  {
    what: 'a chunked read whose body hides another read',
    send: [
      `${get(web, bearer('read'), 'Transfer-Encoding: chunked')}5\r\nhello\r\n0\r\n\r\n${get('/v1/me', bearer('admin'))}`,
    ],
    front: 0,
    status: 200,
  },
  {
    what: 'Content-Length and Transfer-Encoding together',
    send: [
      `${get(web, bearer('read'), 'Content-Length: 4', 'Transfer-Encoding: chunked')}0\r\n\r\n${get('/v1/me', bearer('admin'))}`,
    ],
    front: 0,
    status: 400,
  },
  {
    what: 'two Content-Length lines',
    send: [get(web, bearer('read'), 'Content-Length: 0', 'Content-Length: 5')],
    front: 0,
    status: 400,
  },
  { what: 'an obs-folded line', send: [get(web, bearer('read'), 'X-A: a', ' b')], front: 0, status: 400 },
  {
    what: 'bare LF line ends',
    send: [`GET ${web} HTTP/1.1\nHost: x\nAuthorization: Bearer {read}\n\n`],
    front: 0,
    status: 505,
  },
  { what: 'a space before the colon', send: [get(web, 'Authorization : Bearer {read}')], front: 0, status: 400 },
  { what: 'no Host', send: [head(`GET ${web} HTTP/1.1`, bearer('read'))], front: 0, status: 400 },
  { what: 'a 20 KiB head', send: [get(web, bearer('read'), `X-Pad: ${'a'.repeat(20_000)}`)], front: 0, status: 431 },
  {
    what: 'a read, then a malformed head',
    send: [get(web, bearer('read')) + head('GET / http/1.1', H)],
    front: 1,
    status: 200,
  },
  {
    what: 'a read, a refused JSON body, then a read behind it',
    send: [
      get(web, bearer('read')) +
        head('POST /v1/projects HTTP/1.1', H, bearer('admin'), 'Content-Type: application/json', 'Content-Length: 2') +
        '{}' +
        get(web, bearer('read')),
    ],
    front: 1,
    status: 200,
  },
];

function bytesOf(c: Case): string[] {
  const chunks = c.send.map((chunk) =>
    chunk.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'dep' ? deployment : tokens[name]!)),
  );
  return c.split ? chunks.join('').split('') : chunks;
}

/** Statuses of the responses in `raw`. */
const statuses = (raw: string) => [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

describe('the API front and Bun.serve', () => {
  for (const [group, cases] of [
    ['a lane read', LANE],
    ['a request the front hands over', HANDED_OVER],
  ] as const) {
    for (const c of cases) {
      test(`answer ${group} with ${c.what} with the same bytes (the front answers ${c.front})`, async () => {
        const bytes = bytesOf(c);
        const before = pair.native.frontAnswered();
        const [viaServe, viaFront] = await Promise.all([
          rawExchange(pair.serve.port, bytes),
          rawExchange(pair.native.port, bytes),
        ]);
        expect(pair.native.frontAnswered() - before).toBe(c.front);
        expect(statuses(viaFront)[0]).toBe(c.status);
        expect(normalised(viaFront)).toBe(normalised(viaServe));
      });
    }
  }
});
