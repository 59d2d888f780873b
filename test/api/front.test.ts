/**
 * What the API's front (SLIPWAY_API_ENGINE=native) must keep of the API behind it: the client's own
 * address for requests it hands over (the activity log, the per-IP limit), streamed uploads with
 * the same 413 past the limit, SSE streams as they are written, a token's revocation on the very
 * next request (also when another connection, or another process, revoked it), and a stop.
 */
import { Database } from 'bun:sqlite';
import { beforeAll, describe, expect, test } from 'bun:test';
import { connect } from 'node:net';
import { join } from 'node:path';
import { TEST_ACTOR } from '../helpers/app.ts';
import { tgzOf } from '../helpers/archives.ts';
import { queueDeployment } from '../helpers/deployments.ts';
import type { AnyElysia } from 'elysia';
import { createApp } from '../../src/app.ts';
import { listenApi } from '../../src/api/early.ts';
import { apiAdmission } from '../../src/api/shell.ts';
import { frontPair, head, rawExchange } from './front-helpers.ts';

const pair = frontPair({ SLIPWAY_MAX_UPLOAD_BYTES: '65536', SLIPWAY_RATE_LIMIT_IP: '1000' });
const H = 'Host: 127.0.0.1';

beforeAll(() => {
  pair.t.deps.projects.create(TEST_ACTOR, { name: 'web' });
});

/** The client address the activity log recorded for the creation of project `name`. */
function recordedIp(name: string): string | null {
  const row = pair.t.deps.db
    .prepare("SELECT client_ip FROM activity WHERE action = 'project.create' AND target = ?")
    .get(name) as { client_ip: string | null } | undefined;
  return row?.client_ip ?? null;
}

/** Creates project `name` on a raw connection to `port` from `from`, with extra header lines. */
async function create(port: number, name: string, from: string, ...lines: string[]): Promise<string> {
  const body = JSON.stringify({ name });
  const bytes = head(
    'POST /v1/projects HTTP/1.1',
    H,
    `Authorization: Bearer ${pair.t.adminToken}`,
    'Content-Type: application/json',
    `Content-Length: ${body.length}`,
    ...lines,
  );
  return rawExchange(port, [bytes + body], from);
}

describe("the client's address behind the front", () => {
  test('is the one a handed-over change is logged under, as without the front', async () => {
    expect(await create(pair.native.port, 'from-two', '127.0.0.2')).toStartWith('HTTP/1.1 201');
    expect(await create(pair.serve.port, 'from-three', '127.0.0.3')).toStartWith('HTTP/1.1 201');
    expect(recordedIp('from-two')).toBe('127.0.0.2');
    expect(recordedIp('from-three')).toBe('127.0.0.3');
  });

  test("is a loopback client's X-Real-IP, as without the front", async () => {
    await create(pair.native.port, 'forwarded-native', '127.0.0.1', 'X-Real-IP: 203.0.113.9');
    await create(pair.serve.port, 'forwarded-serve', '127.0.0.1', 'X-Real-IP: 203.0.113.9');
    expect(recordedIp('forwarded-native')).toBe('203.0.113.9');
    expect(recordedIp('forwarded-serve')).toBe('203.0.113.9');
  });

  test('keys the per-IP limit of handed-over and answered requests alike, per client', async () => {
    const remaining = async (path: string, from: string) => {
      const raw = await rawExchange(pair.native.port, [head(`GET ${path} HTTP/1.1`, H)], from);
      return Number(/x-ratelimit-remaining: (\d+)/.exec(raw)?.[1]);
    };
    // /v1/projects is handed over, /v1/projects/web is the front's: one limit per address.
    const first = await remaining('/v1/projects', '127.0.0.4');
    expect(await remaining('/v1/projects/web', '127.0.0.4')).toBe(first - 1);
    expect(await remaining('/v1/projects', '127.0.0.5')).toBe(first);
  });
});

describe('uploads and streams through the front', () => {
  const upload = (port: number, body: Buffer) =>
    fetch(`http://127.0.0.1:${port}/v1/projects/web/deployments`, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${pair.t.adminToken}`, 'content-type': 'application/gzip' },
    });

  test('stream an upload to the API and queue its deployment', async () => {
    const res = await upload(pair.native.port, tgzOf([{ name: 'index.html', body: 'hi' }]));
    expect(res.status).toBe(202);
    expect(((await res.json()) as { status: string }).status).toBe('queued');
  });

  test('refuse an upload past the limit with the same 413 as without the front', async () => {
    const big = Buffer.alloc(200_000, 7);
    const [viaFront, viaServe] = await Promise.all([upload(pair.native.port, big), upload(pair.serve.port, big)]);
    expect(viaFront.status).toBe(413);
    const [a, b] = (await Promise.all([viaFront.json(), viaServe.json()])) as { error: { code: string } }[];
    expect(a!.error.code).toBe('payload_too_large');
    expect({ ...a!.error, request_id: '' }).toEqual({ ...b!.error, request_id: '' });
  });

  test("stream a deployment's log as SSE while it is written", async () => {
    const { t } = pair;
    const id = queueDeployment(t.deps, 'web').id;
    const res = await fetch(`http://127.0.0.1:${pair.native.port}/v1/projects/web/deployments/${id}/logs`, {
      headers: { authorization: `Bearer ${t.adminToken}`, accept: 'text/event-stream' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    t.deps.logs.append(id, 'Step 1/1 from the test');
    while (!seen.includes('Step 1/1 from the test')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value);
    }
    await reader.cancel();
    expect(seen).toContain('data: Step 1/1 from the test');
  });
});

describe('a revoked token at the front', () => {
  const read = (token: string) =>
    fetch(`http://127.0.0.1:${pair.native.port}/v1/projects/web`, { headers: { authorization: `Bearer ${token}` } });

  test('fails on the very next request after a revocation through the API', async () => {
    const minted = pair.t.deps.tokens.mint(TEST_ACTOR, { name: 'short-lived', scope: 'read' });
    expect((await read(minted.token)).status).toBe(200);
    const revoked = await fetch(`http://127.0.0.1:${pair.native.port}/v1/tokens/${minted.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${pair.t.adminToken}` },
    });
    expect(revoked.status).toBe(200);
    expect((await read(minted.token)).status).toBe(401);
  });

  test('fails on the next request after another process revoked it', async () => {
    const minted = pair.t.deps.tokens.mint(TEST_ACTOR, { name: 'elsewhere', scope: 'read' });
    expect((await read(minted.token)).status).toBe(200);
    const other = new Database(join(pair.t.dir, 'slipway.db'));
    try {
      other.run('UPDATE tokens SET revoked_at = ? WHERE id = ?', [new Date().toISOString(), minted.id]);
    } finally {
      other.close();
    }
    // The database's change stamp is read at most once a millisecond (src/db/read-cache.ts).
    await Bun.sleep(2);
    expect((await read(minted.token)).status).toBe(401);
  });
});

describe('a client that does not read its answers', () => {
  test('gets no more answered until it reads, then every one in order', async () => {
    const n = 20_000;
    const read = head('GET /v1/projects/web HTTP/1.1', H, `Authorization: Bearer ${pair.t.adminToken}`);
    const before = pair.native.frontAnswered();
    const socket = connect({ host: '127.0.0.1', port: pair.native.port });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause();
    socket.write(read.repeat(n));
    // ~15 MB of answers: more than the socket buffers hold, so the front must stop answering.
    let last = -1;
    while (pair.native.frontAnswered() !== last) {
      last = pair.native.frontAnswered();
      await Bun.sleep(50);
    }
    expect(last - before).toBeLessThan(n);
    let statuses = 0;
    let tail = '';
    socket.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      statuses += text.split('HTTP/1.1 200 OK\r\n').length - 1;
      tail = text.slice(-16);
    });
    socket.resume();
    while (statuses < n) await Bun.sleep(20);
    socket.destroy();
    expect(statuses).toBe(n);
    expect(pair.native.frontAnswered() - before).toBe(n);
  });
});

describe('stopping the front', () => {
  test('closes its idle connections and the handed-over ones, and accepts no more', async () => {
    const { t } = pair;
    const admit = apiAdmission(t.deps);
    const options = { hostname: '127.0.0.1', port: 0, maxRequestBodySize: 1024 * 1024, engine: 'native' as const };
    const listener = listenApi(t.deps, admit, options, async () => createApp(t.deps, admit) as AnyElysia, 60_000);
    await listener.app();
    const open = (path: string) =>
      new Promise<{ closed: Promise<void> }>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: listener.port });
        const closed = new Promise<void>((done) => socket.on('close', () => done()));
        socket.on('error', () => {});
        socket.once('data', () => resolve({ closed }));
        socket.write(head(`GET ${path} HTTP/1.1`, H, `Authorization: Bearer ${t.adminToken}`));
      });
    // One connection the front answered, one it handed over to Bun.serve.
    const [answered, handedOver] = await Promise.all([open('/v1/projects/web'), open('/v1/projects')]);
    await listener.stop();
    await Promise.all([answered.closed, handedOver.closed]);
    const refused = await fetch(`http://127.0.0.1:${listener.port}/v1/health`).catch(() => null);
    expect(refused).toBeNull();
  });
});
