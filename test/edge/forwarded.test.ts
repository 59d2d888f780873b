import { afterEach, describe, expect, test } from 'bun:test';
import { EdgeProxy } from '../../src/edge/proxy.ts';
import { parseCidrList } from '../../src/edge/trusted-proxies.ts';
import { closeAll, parseRaw, rawHttp, startEdge, upstream } from './helpers.ts';

afterEach(closeAll);

/** An upstream that answers with the request headers it received, as JSON. */
function echoHeaders(): string {
  return upstream((req) => Response.json(Object.fromEntries(req.headers))).address;
}

/** The identity headers as the upstream saw them, for a raw request carrying `extra` header lines. */
async function identitySeen(port: number, extra: string[]): Promise<Record<string, string | undefined>> {
  const head = ['GET / HTTP/1.1', 'Host: web.localhost', ...extra, 'Connection: close', '', ''].join('\r\n');
  const seen = JSON.parse(parseRaw(await rawHttp(port, head)).body) as Record<string, string>;
  const names = ['x-forwarded-for', 'x-real-ip', 'forwarded', 'x-forwarded-proto', 'x-forwarded-host'];
  return Object.fromEntries(names.map((n) => [n, seen[n]]));
}

/** Every identity header a visitor could forge, in the spellings and repetitions a parser might merge. */
const FORGED = [
  'X-Forwarded-For: 203.0.113.7',
  'x-forwarded-for: 10.0.0.2',
  'X-Real-IP: 203.0.113.7',
  'Forwarded: for=203.0.113.7;proto=https;host=admin.example',
  'X-Forwarded-Proto: https',
  'X-Forwarded-Host: admin.example',
];

const OWN = {
  'x-forwarded-for': '127.0.0.1',
  'x-real-ip': '127.0.0.1',
  forwarded: 'for=127.0.0.1;host=web.localhost;proto=http',
  'x-forwarded-proto': 'http',
  'x-forwarded-host': 'web.localhost',
};

describe('identity headers from an untrusted peer', () => {
  test('replaces every forged identity header with what the edge saw on the socket', async () => {
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [echoHeaders()] }]);
    expect(await identitySeen(port, FORGED)).toEqual(OWN);
  });

  test('sets them also when the visitor sent none', async () => {
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [echoHeaders()] }]);
    expect(await identitySeen(port, [])).toEqual(OWN);
  });

  test('ignores a chain that names a trusted proxy when the peer itself is not one', async () => {
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [echoHeaders()] }], {
      trustedProxies: parseCidrList('10.0.0.0/8'),
    });
    expect(await identitySeen(port, ['X-Forwarded-For: 203.0.113.7, 10.0.0.2', 'X-Real-IP: 10.0.0.2'])).toEqual(OWN);
  });

  test('writes an IPv6 peer into Forwarded as a quoted, bracketed node', async () => {
    const edge = new EdgeProxy({ baseDomain: 'localhost', drainTimeoutMs: 1000 });
    edge.setRoutes([{ project: 'web', hostnames: [], targets: [echoHeaders()] }]);
    const port = edge.listen('::1', 0);
    try {
      const res = await fetch(`http://[::1]:${port}/`, {
        headers: { host: 'web.localhost', 'x-forwarded-for': '1.2.3.4' },
      });
      const seen = (await res.json()) as Record<string, string>;
      expect(seen['x-forwarded-for']).toBe('::1');
      expect(seen['x-real-ip']).toBe('::1');
      expect(seen.forwarded).toBe('for="[::1]";host=web.localhost;proto=http');
    } finally {
      await edge.stop();
    }
  });
});

describe('identity headers from a trusted proxy', () => {
  test('appends the peer to its X-Forwarded-For chain and keeps its proto and host', async () => {
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [echoHeaders()] }], {
      trustedProxies: parseCidrList('127.0.0.1/32'),
    });
    expect(await identitySeen(port, FORGED)).toEqual({
      'x-forwarded-for': '203.0.113.7, 10.0.0.2, 127.0.0.1',
      'x-real-ip': '10.0.0.2',
      forwarded: 'for=203.0.113.7;proto=https;host=admin.example, for=127.0.0.1;host=web.localhost;proto=http',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'admin.example',
    });
  });

  test('takes X-Real-IP from the first hop, right to left, that is not itself a trusted proxy', async () => {
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [echoHeaders()] }], {
      trustedProxies: parseCidrList('127.0.0.0/8, 10.0.0.0/8'),
    });
    const chain = 'X-Forwarded-For: 198.51.100.1, 203.0.113.9, 10.0.0.5';
    expect((await identitySeen(port, [chain]))['x-real-ip']).toBe('203.0.113.9');
    // A chain of trusted hops only, or one that ends in something that is no address, stops there.
    expect((await identitySeen(port, ['X-Forwarded-For: 10.0.0.9']))['x-real-ip']).toBe('10.0.0.9');
    expect((await identitySeen(port, ['X-Forwarded-For: 1.2.3.4, evil']))['x-real-ip']).toBe('127.0.0.1');
  });

  test('fills in what the trusted proxy left out', async () => {
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [echoHeaders()] }], {
      trustedProxies: parseCidrList('::1, 127.0.0.1'),
    });
    expect(await identitySeen(port, [])).toEqual(OWN);
  });
});
