import { afterEach, describe, expect, test } from 'bun:test';
import { WHOLE_BODY_LIMIT } from '../../src/edge/http-exchange.ts';
import { closeAll, parseRaw, rawHttp, startEdge, upstream } from './helpers.ts';

afterEach(closeAll);

const encode = (s: string) => new TextEncoder().encode(s);

describe('response bodies', () => {
  test('passes SSE events through one by one: the first arrives before the upstream sends the second', async () => {
    let sendSecond!: () => void;
    const secondAllowed = new Promise<void>((resolve) => (sendSecond = resolve));
    const sse = upstream(
      () =>
        new Response(
          new ReadableStream({
            async start(c) {
              c.enqueue(encode('data: one\n\n'));
              await secondAllowed;
              c.enqueue(encode('data: two\n\n'));
              c.close();
            },
          }),
          { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } },
        ),
    ).address;
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [sse] }]);

    const res = await get('web.localhost');
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    expect((await reader.read()).value).toBe('data: one\n\n');
    sendSecond();
    expect((await reader.read()).value).toBe('data: two\n\n');
    expect((await reader.read()).done).toBe(true);
  });

  test('relays a gzip-encoded response byte for byte, with its Content-Encoding and Content-Length', async () => {
    const gzipped = Bun.gzipSync(encode('hello, compressed world\n'.repeat(2000)));
    const app = upstream(
      () => new Response(gzipped, { headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' } }),
    ).address;
    const { get, port } = startEdge([{ project: 'web', hostnames: [], targets: [app] }]);

    const res = await get('web.localhost', '/', { decompress: false, headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('content-length')).toBe(String(gzipped.length));
    expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), Buffer.from(gzipped))).toBe(0);

    // The same on the wire, without any client between the edge and the assertion.
    const raw = parseRaw(await rawHttp(port, 'GET / HTTP/1.1\r\nHost: web.localhost\r\nConnection: close\r\n\r\n'));
    expect(raw.headers.get('content-length')).toEqual([String(gzipped.length)]);
    expect(raw.headers.has('transfer-encoding')).toBe(false);
    expect(Buffer.compare(Buffer.from(raw.body, 'latin1'), Buffer.from(gzipped))).toBe(0);
  });

  test('streams a gzip body larger than the whole-body limit without decompressing it', async () => {
    const gzipped = Bun.gzipSync(crypto.getRandomValues(new Uint8Array(WHOLE_BODY_LIMIT * 2)), { level: 1 });
    const app = upstream(() => new Response(gzipped, { headers: { 'content-encoding': 'gzip' } })).address;
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [app] }]);
    const res = await get('web.localhost', '/', { decompress: false });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), Buffer.from(gzipped))).toBe(0);
  });

  test('streams a body larger than the whole-body limit with its Content-Length', async () => {
    const big = crypto.getRandomValues(new Uint8Array(WHOLE_BODY_LIMIT + 1));
    const app = upstream(() => new Response(big)).address;
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [app] }]);
    const raw = parseRaw(await rawHttp(port, 'GET / HTTP/1.1\r\nHost: web.localhost\r\nConnection: close\r\n\r\n'));
    expect(raw.headers.get('content-length')).toEqual([String(big.length)]);
    expect(raw.headers.has('transfer-encoding')).toBe(false);
    expect(Buffer.compare(Buffer.from(raw.body, 'latin1'), Buffer.from(big))).toBe(0);
  });

  test('answers HEAD with the upstream headers, its Content-Length included, and no body', async () => {
    const app = upstream(() => new Response('x'.repeat(1000), { headers: { etag: '"v1"' } })).address;
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [app] }]);
    const raw = parseRaw(await rawHttp(port, 'HEAD / HTTP/1.1\r\nHost: web.localhost\r\nConnection: close\r\n\r\n'));
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-length')).toEqual(['1000']);
    expect(raw.headers.get('etag')).toEqual(['"v1"']);
    expect(raw.body).toBe('');
  });

  test('passes redirects through instead of following them', async () => {
    const app = upstream((req) =>
      new URL(req.url).pathname === '/old'
        ? new Response(null, { status: 302, headers: { location: '/new' } })
        : new Response('followed'),
    ).address;
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [app] }]);
    const res = await get('web.localhost', '/old');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/new');
  });

  test('keeps every Set-Cookie header separate', async () => {
    const app = upstream(() => {
      const headers = new Headers();
      headers.append('set-cookie', 'a=1; Path=/');
      headers.append('set-cookie', 'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT');
      return new Response('ok', { headers });
    }).address;
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [app] }]);
    const res = await get('web.localhost');
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT']);
  });
});
