import { afterEach, describe, expect, test } from 'bun:test';
import { withoutHopByHop } from '../../src/edge/headers.ts';
import { closeAll, parseRaw, rawHttp, rawUpstream, startEdge, upstream } from './helpers.ts';

afterEach(closeAll);

/** An upstream that answers with the request headers it received, as JSON. */
function echoHeaders(): string {
  return upstream((req) => Response.json(Object.fromEntries(req.headers))).address;
}

describe('request headers', () => {
  test('removes hop-by-hop headers, including those Connection lists, before the upstream', async () => {
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [echoHeaders()] }]);
    const raw = await rawHttp(
      port,
      [
        'GET / HTTP/1.1',
        'Host: web.localhost',
        'Connection: close, X-Hop-Secret',
        'X-Hop-Secret: do not forward',
        'Keep-Alive: timeout=5',
        'Proxy-Connection: keep-alive',
        'Proxy-Authorization: Basic cHJveHk6c2VjcmV0',
        'TE: trailers',
        'Trailer: X-Checksum',
        'Upgrade: h2c',
        'X-End-To-End: kept',
        '',
        '',
      ].join('\r\n'),
    );
    const seen = JSON.parse(parseRaw(raw).body) as Record<string, string>;
    const hopByHop = [
      'x-hop-secret',
      'keep-alive',
      'proxy-connection',
      'proxy-authorization',
      'te',
      'trailer',
      'upgrade',
    ];
    for (const name of hopByHop) expect(seen).not.toHaveProperty(name);
    // Bun's client speaks keep-alive to the upstream on its own account; the visitor's "close" stays behind.
    expect(seen.connection ?? 'keep-alive').toBe('keep-alive');
    expect(seen['x-end-to-end']).toBe('kept');
  });

  test('keeps Host and sets X-Forwarded-For, -Proto and -Host', async () => {
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [echoHeaders()] }]);
    const seen = (await (await get('Web.Localhost:8080')).json()) as Record<string, string>;
    expect(seen.host).toBe('Web.Localhost:8080');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe('Web.Localhost:8080');
  });

  test('replaces the X-Forwarded-For chain and spoofed proto a visitor sends (trusted proxies: forwarded.test.ts)', async () => {
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [echoHeaders()] }]);
    const headers = { 'x-forwarded-for': '203.0.113.7, 10.0.0.2', 'x-forwarded-proto': 'https' };
    const seen = (await (await get('web.localhost', '/', { headers })).json()) as Record<string, string>;
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
  });

  test('forwards a request body with its Content-Length', async () => {
    const app = upstream(async (req) =>
      Response.json({ length: req.headers.get('content-length'), body: await req.text() }),
    ).address;
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [app] }]);
    const res = await get('web.localhost', '/', { method: 'POST', body: 'name=slipway' });
    expect(await res.json()).toEqual({ length: '12', body: 'name=slipway' });
  });

  test('answers Expect: 100-continue itself and does not forward it', async () => {
    const app = upstream(async (req) =>
      Response.json({ expect: req.headers.get('expect'), body: await req.text() }),
    ).address;
    const head = 'POST / HTTP/1.1\r\nHost: web.localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\n';
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [app] }]);
    const raw = await new Promise<string>((resolve) => {
      let got = '';
      let sent = false;
      void Bun.connect({
        hostname: '127.0.0.1',
        port,
        socket: {
          open: (s) => void s.write(`${head}Connection: close\r\n\r\n`),
          data: (s, chunk) => {
            got += chunk.toString();
            // The body goes out only once the edge has invited it, as a careful client does.
            if (!sent && got.startsWith('HTTP/1.1 100')) sent = s.write('hello') > 0;
          },
          close: () => resolve(got),
        },
      });
    });
    expect(raw.startsWith('HTTP/1.1 100 Continue')).toBe(true);
    expect(raw).toContain('{"expect":null,"body":"hello"}');
  });
});

describe('response headers', () => {
  test('removes hop-by-hop headers from the upstream response', async () => {
    const app = rawUpstream((_head, socket) => {
      socket.write(
        [
          'HTTP/1.1 200 OK',
          'Content-Type: text/plain',
          'Content-Length: 2',
          'Connection: keep-alive, X-Resp-Hop',
          'X-Resp-Hop: internal',
          'Keep-Alive: timeout=5',
          'Proxy-Authenticate: Basic realm="upstream"',
          'Upgrade: h2c',
          'X-End-To-End: kept',
          '',
          'ok',
        ].join('\r\n'),
      );
    });
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [app] }]);
    const res = parseRaw(await rawHttp(port, 'GET / HTTP/1.1\r\nHost: web.localhost\r\nConnection: close\r\n\r\n'));
    expect(res.status).toBe(200);
    for (const name of ['x-resp-hop', 'keep-alive', 'proxy-authenticate', 'upgrade']) {
      expect(res.headers.has(name)).toBe(false);
    }
    expect(res.headers.get('x-end-to-end')).toEqual(['kept']);
    expect(res.body).toBe('ok');
  });

  test('ignores names in Connection that are not header names', () => {
    const out = withoutHopByHop(['Connection', 'close, , bad name, x-a', 'X-A', '1', 'x-b', '2']);
    expect(out).toEqual(['x-b', '2']);
  });
});

describe('upstream connections', () => {
  test('reuses keep-alive connections to the upstream: 50 sequential requests use only a few', async () => {
    const ports = new Set<number>();
    const app = upstream((req, server) => {
      ports.add(server.requestIP(req)!.port);
      return new Response('ok');
    }).address;
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [app] }]);
    for (let i = 0; i < 50; i++) expect(await (await get('web.localhost')).text()).toBe('ok');
    expect(ports.size).toBeLessThanOrEqual(3);
  });
});
