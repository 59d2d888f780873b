import { afterAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { tgzOf } from '../helpers/archives.ts';
import { makeTestApp, TEST_ACTOR } from '../helpers/app.ts';

const t = makeTestApp();
t.deps.projects.create(TEST_ACTOR, { name: 'web' });
t.app.listen({ hostname: '127.0.0.1', port: 0 });
const port = t.app.server!.port!;
afterAll(async () => {
  await t.app.stop(true);
  t.close();
});

/** The JSON body limit the API promises (1 MiB). */
const LIMIT = 1024 * 1024;
/** How much a flood may send before the test gives up: far more than the limit. */
const FLOOD_CAP = 64 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');
/**
 * Sent before the answer arrived, at most, for an answer given while the body was still coming:
 * what the server read plus what loopback's socket buffers hold meanwhile (up to ~10 MiB, more on
 * a loaded machine), far below the flood a server that read on would take.
 */
const ANSWERED_EARLY = FLOOD_CAP / 2;

interface Flood {
  /** The raw response, head and body. */
  response: string;
  /** Body bytes sent before the first response byte arrived. */
  sentBeforeAnswer: number;
  /** Body bytes sent in all, counting what went out after the answer while the socket took it. */
  sent: number;
}

/**
 * Sends a request whose chunked body never ends: the start of a JSON object, then `x` forever,
 * and never the final zero-length chunk. Resolves once the response is complete, after trying to
 * send `after` more bytes; rejects if FLOOD_CAP goes out with no answer.
 */
function flood(method: string, path: string, headers: Record<string, string>, after = 0): Promise<Flood> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let response = '';
    let sent = 0;
    let sentBeforeAnswer = -1;
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      socket.destroy();
      if (error) reject(error);
      else resolve({ response, sentBeforeAnswer, sent });
    };
    const complete = () => {
      const end = response.indexOf('\r\n\r\n');
      if (end === -1) return false;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(response.slice(0, end))?.[1] ?? NaN);
      return Buffer.byteLength(response.slice(end + 4)) >= length;
    };
    socket.on('data', (data) => {
      if (sentBeforeAnswer === -1) sentBeforeAnswer = sent;
      response += data.toString('utf8');
    });
    socket.on('error', () => finish());
    socket.on('close', () => finish());
    socket.on('connect', async () => {
      const head = Object.entries({ host: 'localhost', 'content-type': 'application/json', ...headers })
        .filter(([, v]) => v !== '')
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(`${method} ${path} HTTP/1.1\r\n${head}transfer-encoding: chunked\r\n\r\n`);
      const chunk = (body: Buffer) =>
        Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]);
      socket.write(chunk(Buffer.from('{"vars":{"A":"')));
      while (!done) {
        const answered = sentBeforeAnswer !== -1 && complete();
        if (answered && sent - sentBeforeAnswer >= after) return finish();
        if (sent > FLOOD_CAP) return answered ? finish() : finish(new Error(`no answer after ${sent} bytes`));
        if (!socket.write(chunk(CHUNK))) {
          // A server that stopped reading leaves the rest in the kernel's buffers: stop after a while.
          const drained = await Promise.race([
            new Promise((r) => socket.once('drain', () => r(true))),
            Bun.sleep(2000).then(() => false),
          ]);
          if (!drained) return answered ? finish() : finish(new Error(`stalled with no answer after ${sent} bytes`));
        }
        sent += CHUNK.length;
      }
    });
  });
}

function parse(raw: string): { status: number; headers: Record<string, string>; body: unknown } {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine!.split(' ')[1]), headers, body: JSON.parse(raw.slice(end + 4)) };
}

describe('a chunked JSON body without Content-Length', () => {
  const routes: [string, string][] = [
    ['PATCH', '/v1/projects/web/env'],
    ['POST', '/v1/projects'],
    ['POST', '/v1/tokens'],
    ['PATCH', '/v1/projects/web'],
    ['POST', '/v1/projects/web/rollback'],
  ];
  for (const [method, path] of routes) {
    test(`to ${method} ${path} is refused with 413 once it passes the limit, before authentication`, async () => {
      const { response, sentBeforeAnswer } = await flood(method, path, {});
      const { status, headers, body } = parse(response);
      expect(status).toBe(413);
      expect(body).toEqual({
        error: {
          code: 'payload_too_large',
          message: `The JSON body is larger than ${LIMIT} bytes`,
          request_id: headers['x-request-id']!,
        },
      });
      // It answered while the body was still coming, having read little more than the limit.
      expect(sentBeforeAnswer).toBeGreaterThan(LIMIT - CHUNK.length);
      expect(sentBeforeAnswer).toBeLessThan(ANSWERED_EARLY);
    });
  }

  test('an authenticated caller gets the same 413', async () => {
    const { response } = await flood('PATCH', '/v1/projects/web/env', { authorization: `Bearer ${t.adminToken}` });
    expect(parse(response).status).toBe(413);
  });

  test('what arrives after the answer is discarded: memory does not grow by it', async () => {
    Bun.gc(true);
    const before = process.memoryUsage().rss;
    // 48 MiB more after the answer, which the server reads and drops.
    const { response, sent } = await flood('PATCH', '/v1/projects/web/env', {}, 48 * 1024 * 1024);
    expect(parse(response).status).toBe(413);
    expect(sent).toBeGreaterThan(48 * 1024 * 1024);
    Bun.gc(true);
    expect((process.memoryUsage().rss - before) / 1024 / 1024).toBeLessThan(16);
  });

  test('without a Content-Type it is not read at all, and the answer comes at once', async () => {
    const { response, sentBeforeAnswer } = await flood('PATCH', '/v1/projects/web/env', {
      'content-type': '',
      authorization: `Bearer ${t.adminToken}`,
    });
    expect(parse(response)).toMatchObject({ status: 422, body: { error: { code: 'validation_error' } } });
    expect(sentBeforeAnswer).toBeLessThan(ANSWERED_EARLY);
  });

  test('an upload keeps its own, larger limit', async () => {
    const archive = tgzOf([{ name: 'index.html', body: randomBytes(3 * LIMIT) }]);
    const res = await fetch(`http://127.0.0.1:${port}/v1/projects/web/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/gzip' },
      body: new ReadableStream({
        start(c) {
          for (let at = 0; at < archive.length; at += CHUNK.length) c.enqueue(archive.subarray(at, at + CHUNK.length));
          c.close();
        },
      }),
    });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { source: { bytes: number } }).source.bytes).toBe(archive.length);
  });

  test('a body within the limit is read and used as before', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/projects/web/env`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"vars":{"GREETING":'));
          c.enqueue(new TextEncoder().encode(`"${'h'.repeat(1000)}"}}`));
          c.close();
        },
      }),
    });
    expect(res.status).toBe(200);
    expect(t.deps.env.values(t.deps.projects.get('web').id).GREETING).toBe('h'.repeat(1000));
  });
});
