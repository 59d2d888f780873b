/**
 * The native engine's upstream side: keep-alive connections pooled per target and sized by demand,
 * safe retries, and response framing (chunked with trailers, close-delimited, bodiless, smuggled
 * bytes after a body), checked on raw sockets at both ends.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { closeAll, onCleanup, parseRaw, rawHttp, startEdge, upstream } from './helpers.ts';

afterEach(closeAll);

const ROUTE = (target: string) => [{ project: 'web', hostnames: [], targets: [target] }];
const GET = 'GET / HTTP/1.1\r\nHost: web.localhost\r\n\r\n';

/** A raw upstream that answers every request head on a connection with `answer(n)`, n counting requests; counts connections. */
function scriptedUpstream(
  answer: (n: number, head: string) => string,
  after?: (s: Bun.Socket<{ buf: string }>) => void,
) {
  const seen = { connections: 0, requests: 0 };
  const listener = Bun.listen<{ buf: string }>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(socket) {
        socket.data = { buf: '' };
        seen.connections += 1;
      },
      data(socket, chunk) {
        socket.data.buf += chunk.toString('latin1');
        for (let end = socket.data.buf.indexOf('\r\n\r\n'); end !== -1; end = socket.data.buf.indexOf('\r\n\r\n')) {
          const head = socket.data.buf.slice(0, end);
          socket.data.buf = socket.data.buf.slice(end + 4);
          socket.write(answer(++seen.requests, head));
          after?.(socket);
        }
      },
    },
  });
  onCleanup(() => listener.stop(true));
  return { address: `127.0.0.1:${listener.port}`, seen };
}

/** Sends `requests` on one raw connection, waiting for `count` responses' worth of `marker`; returns the bytes. */
function exchangeOn(port: number, requests: string[], done: (got: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    void Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        open(socket) {
          socket.write(requests.join(''));
        },
        data(socket, chunk) {
          got += chunk.toString('latin1');
          if (done(got)) {
            socket.end();
            resolve(got);
          }
        },
        close: () => resolve(got),
        error: (_s, err) => reject(err),
      },
    });
  });
}

/** The pool and framing here are the native engine's, whichever engine the other edge tests run on. */
const NATIVE = { engine: 'native' as const };

describe('the upstream pool', () => {
  test('opens no more upstream connections than there are concurrent visitors, past 64 too', async () => {
    const app = upstream(() => new Response('ok'));
    const { port, edge } = startEdge(ROUTE(app.address), NATIVE);
    const burst = () =>
      Promise.all(
        Array.from({ length: 100 }, () =>
          fetch(`http://127.0.0.1:${port}/`, { headers: { host: 'web.localhost' } }).then((r) => r.text()),
        ),
      );
    for (let round = 0; round < 5; round++) expect(new Set(await burst())).toEqual(new Set(['ok']));
    expect(edge.upstreamConnectionsOpened()).toBeGreaterThan(0);
    expect(edge.upstreamConnectionsOpened()).toBeLessThanOrEqual(100);
  });

  test('reuses one upstream connection for sequential requests', async () => {
    const app = scriptedUpstream(() => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const { port } = startEdge(ROUTE(app.address), NATIVE);
    const got = await exchangeOn(port, [GET, GET, GET], (g) => g.split('HTTP/1.1 200').length === 4);
    expect(got.split('\r\n\r\nok').length).toBe(4);
    expect(app.seen).toEqual({ connections: 1, requests: 3 });
  });

  /** An upstream that answers the first request on each connection and drops the connection at the second, unanswered. */
  function droppingUpstream() {
    const seen = { connections: 0, methods: [] as string[] };
    const listener = Bun.listen<{ n: number }>({
      hostname: '127.0.0.1',
      port: 0,
      socket: {
        open(socket) {
          socket.data = { n: 0 };
          seen.connections += 1;
        },
        data(socket, chunk) {
          seen.methods.push(chunk.toString('latin1').split(' ')[0]!);
          if (++socket.data.n === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
          else socket.terminate();
        },
      },
    });
    onCleanup(() => listener.stop(true));
    return { address: `127.0.0.1:${listener.port}`, seen };
  }

  test('retries a GET once on a new connection when its pooled connection is dropped unanswered', async () => {
    const app = droppingUpstream();
    const { get } = startEdge(ROUTE(app.address), NATIVE);
    expect((await get('web.localhost')).status).toBe(200);
    const second = await get('web.localhost');
    expect([second.status, await second.text()]).toEqual([200, 'ok']);
    expect(app.seen).toEqual({ connections: 2, methods: ['GET', 'GET', 'GET'] });
  });

  test('does not send a POST again when its pooled connection is dropped unanswered', async () => {
    const app = droppingUpstream();
    const { get } = startEdge(ROUTE(app.address), NATIVE);
    expect((await get('web.localhost')).status).toBe(200);
    const post = await get('web.localhost', '/', { method: 'POST', body: 'once' });
    expect(post.status).toBe(502);
    expect(app.seen).toEqual({ connections: 1, methods: ['GET', 'POST'] });
  });
});

describe('response framing on the native engine', () => {
  test('passes a chunked response with trailers to an HTTP/1.1 visitor chunk for chunk', async () => {
    const body = '5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 42\r\n\r\n';
    const app = scriptedUpstream(
      () => `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n${body}`,
    );
    const { port } = startEdge(ROUTE(app.address), NATIVE);
    const got = await exchangeOn(port, [GET], (g) => g.endsWith('\r\n\r\n') && g.includes('X-Checksum'));
    const res = parseRaw(got);
    expect(res.headers.get('transfer-encoding')).toEqual(['chunked']);
    expect(res.body).toBe(body);
  });

  test('decodes a chunked response for an HTTP/1.0 visitor and closes', async () => {
    const app = scriptedUpstream(() => 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    const { port } = startEdge(ROUTE(app.address), NATIVE);
    const res = parseRaw(await rawHttp(port, 'GET / HTTP/1.0\r\nHost: web.localhost\r\n\r\n'));
    expect(res.headers.get('transfer-encoding')).toBeUndefined();
    expect(res.headers.get('connection')).toEqual(['close']);
    expect(res.body).toBe('hello');
  });

  test('frames a close-delimited response as chunked and keeps the visitor connection', async () => {
    const app = scriptedUpstream(
      () => 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close',
      (s) => setTimeout(() => s.end(), 10),
    );
    const { port } = startEdge(ROUTE(app.address), NATIVE);
    const got = await exchangeOn(port, [GET, GET], (g) => g.split('0\r\n\r\n').length === 3);
    const first = parseRaw(got);
    expect(first.headers.get('transfer-encoding')).toEqual(['chunked']);
    expect(first.body.startsWith('b\r\nuntil close\r\n0\r\n\r\nHTTP/1.1 200')).toBe(true);
    expect(app.seen.connections).toBe(2);
  });

  test('sends no body for HEAD, 204 and 304, keeping their Content-Length, and reuses the connection', async () => {
    const app = scriptedUpstream((n, head) => {
      if (head.startsWith('HEAD')) return 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n';
      return n === 2 ? 'HTTP/1.1 204 No Content\r\n\r\n' : 'HTTP/1.1 304 Not Modified\r\nETag: "v"\r\n\r\n';
    });
    const { port } = startEdge(ROUTE(app.address), NATIVE);
    const head = 'HEAD / HTTP/1.1\r\nHost: web.localhost\r\n\r\n';
    const got = await exchangeOn(
      port,
      [head, GET, GET],
      (g) => g.includes('304 Not Modified') && g.endsWith('\r\n\r\n'),
    );
    expect(got.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 204', 'HTTP/1.1 304']);
    expect(got).toContain('Content-Length: 1000\r\n');
    expect(app.seen).toEqual({ connections: 1, requests: 3 });
  });

  test('never passes bytes an upstream sends after a body, and drops that connection', async () => {
    const smuggled = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevil!';
    const app = scriptedUpstream(() => `HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok${smuggled}`);
    const { port } = startEdge(ROUTE(app.address), NATIVE);
    const got = await exchangeOn(port, [GET, GET], (g) => g.split('\r\n\r\nok').length === 3);
    expect(got).not.toContain('evil');
    expect(app.seen.connections).toBe(2);
  });

  test('answers 502 to a response with both Content-Length and Transfer-Encoding', async () => {
    const app = scriptedUpstream(
      () => 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nhello',
    );
    const { get } = startEdge(ROUTE(app.address), NATIVE);
    expect((await get('web.localhost')).status).toBe(502);
  });
});
