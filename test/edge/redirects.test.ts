import { afterEach, describe, expect, test } from 'bun:test';
import type { IncomingMessage } from 'node:http';
import { CertificateStore } from '../../src/edge/certificates.ts';
import { ChallengeBook } from '../../src/edge/challenges.ts';
import { dispatch } from '../../src/edge/dispatch.ts';
import type { HostEntry } from '../../src/edge/route-store.ts';
import { RouteTable } from '../../src/edge/route-table.ts';
import { TargetRegistry } from '../../src/edge/target.ts';
import { closeAll, namedUpstream, parseRaw, rawHttp, startEdge, upstream } from './helpers.ts';
import { httpsRequest, startTlsEdge, testCa } from './tls-helpers.ts';

afterEach(closeAll);

const entry = (hostname: string, o: Partial<HostEntry> = {}): HostEntry => ({
  hostname,
  project: 'web',
  redirectToHttps: true,
  hsts: false,
  ...o,
});

describe('redirects from HTTP to HTTPS', () => {
  test('send GET and HEAD with 301 and other methods with 308 to the same host and path as sent, with an empty body', async () => {
    const ca = testCa();
    const { get, port, httpsPort } = startTlsEdge({
      routes: [{ project: 'web', hostnames: [], targets: [namedUpstream('web')] }],
      hosts: [entry('shop.example.test')],
      certificates: [ca.issue(['shop.example.test'])],
    });
    const path = '/a/b%2F//c?q=1&q=%zz';
    for (const [method, status] of [
      ['GET', 301],
      ['HEAD', 301],
      ['POST', 308],
      ['PUT', 308],
      ['DELETE', 308],
    ] as const) {
      const res = await get('Shop.Example.Test:8080', path, { method, ...(method === 'PUT' ? { body: 'x' } : {}) });
      expect([method, res.status]).toEqual([method, status]);
      expect(res.headers.get('location')).toBe(`https://shop.example.test:${httpsPort}${path}`);
      expect(res.headers.get('content-length')).toBe('0');
      expect(await res.text()).toBe('');
    }
    const raw = parseRaw(
      await rawHttp(port, 'GET /a/../%2e%2e/b HTTP/1.1\r\nHost: shop.example.test\r\nConnection: close\r\n\r\n'),
    );
    expect(raw.headers.get('location')).toEqual([`https://shop.example.test:${httpsPort}/a/../%2e%2e/b`]);
  });

  test('leave out the port when HTTPS is on 443', () => {
    const certificates = new CertificateStore();
    certificates.update([testCa().issue(['shop.example.test'])]);
    const req = { method: 'GET', url: '/x?y', rawHeaders: ['Host', 'shop.example.test'] } as unknown as IncomingMessage;
    const decided = dispatch(req, false, {
      table: new RouteTable([], 'localhost', () => {}, [entry('shop.example.test')]),
      challenges: new ChallengeBook(),
      certificates,
      targets: new TargetRegistry(),
      api: null,
      httpsPort: 443,
    });
    expect('answer' in decided && decided.answer.headers.location).toBe('https://shop.example.test/x?y');
  });

  test('happen only when the host asked for them, a certificate covers it (exact or wildcard) and HTTPS listens', async () => {
    const ca = testCa();
    const app = namedUpstream('web');
    const hosts = [
      entry('shop.example.test'),
      entry('blog.example.test', { redirectToHttps: false }),
      entry('nocert.other.test'),
      entry('a.wild.test'),
    ];
    const certificates = ['shop.example.test', 'blog.example.test', '*.wild.test'].map((n) => ca.issue([n]));
    const routes = [{ project: 'web', hostnames: [], targets: [app] }];
    const { get } = startTlsEdge({ routes, hosts, certificates });
    expect((await get('shop.example.test')).status).toBe(301);
    expect((await get('a.wild.test')).status).toBe(301);
    expect(await (await get('blog.example.test')).text()).toBe('web');
    expect(await (await get('nocert.other.test')).text()).toBe('web');

    // Without an HTTPS listener, nothing is redirected.
    const plain = startEdge();
    plain.edge.apply({ routes, hosts, certificates });
    expect(await (await plain.get('shop.example.test')).text()).toBe('web');
  });

  test("never apply to a project's own address, which has no host entry, even under a wildcard certificate", async () => {
    const ca = testCa();
    const { get, httpsPort } = startTlsEdge(
      {
        routes: [{ project: 'web', hostnames: [], targets: [namedUpstream('web')] }],
        certificates: [ca.issue(['*.apps.example.test'])],
      },
      { baseDomain: 'apps.example.test' },
    );
    expect(await (await get('web.apps.example.test')).text()).toBe('web');
    expect((await httpsRequest(httpsPort, 'web.apps.example.test', ca.caPem)).body).toBe('web');
  });
});

describe('HSTS', () => {
  test('is sent over HTTPS for host names that asked for it, replacing the app’s, and never over HTTP', async () => {
    const ca = testCa();
    const app = upstream(() => new Response('web', { headers: { 'strict-transport-security': 'max-age=5' } })).address;
    const { get, httpsPort } = startTlsEdge({
      routes: [{ project: 'web', hostnames: [], targets: [app] }],
      hosts: [
        entry('strict.example.test', { hsts: true, redirectToHttps: false }),
        entry('lax.example.test', { redirectToHttps: false }),
      ],
      certificates: [ca.issue(['strict.example.test']), ca.issue(['lax.example.test'])],
    });
    const strict = await httpsRequest(httpsPort, 'strict.example.test', ca.caPem);
    expect(strict.headers['strict-transport-security']).toBe('max-age=31536000');
    const lax = await httpsRequest(httpsPort, 'lax.example.test', ca.caPem);
    expect(lax.headers['strict-transport-security']).toBe('max-age=5'); // the app's own, untouched
    const overHttp = await get('strict.example.test');
    expect(overHttp.headers.get('strict-transport-security')).toBe('max-age=5');
  });

  test("comes with the edge's own pages over HTTPS too", async () => {
    const ca = testCa();
    const { httpsPort } = startTlsEdge({
      routes: [{ project: 'web', hostnames: [], targets: [] }],
      hosts: [entry('strict.example.test', { hsts: true })],
      certificates: [ca.issue(['strict.example.test'])],
    });
    const res = await httpsRequest(httpsPort, 'strict.example.test', ca.caPem);
    expect(res.status).toBe(503);
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
  });
});

describe('host entries', () => {
  test("route a custom name to its project, over HTTP and HTTPS, but never take over another project's address", async () => {
    const ca = testCa();
    const warnings: object[] = [];
    const log = { info() {}, error() {}, warn: (msg: string, f?: object) => void warnings.push({ msg, ...f }) };
    const { get, httpsPort } = startTlsEdge(
      {
        routes: [
          { project: 'web', hostnames: [], targets: [namedUpstream('web')] },
          { project: 'api', hostnames: [], targets: [namedUpstream('api')] },
        ],
        hosts: [
          entry('shop.example.test', { redirectToHttps: false }),
          entry('api.localhost'),
          entry('later.localhost'),
          entry('deep.name.localhost', { redirectToHttps: false }),
        ],
        certificates: [ca.issue(['shop.example.test'])],
      },
      { log },
    );
    expect(await (await get('shop.example.test')).text()).toBe('web');
    expect((await httpsRequest(httpsPort, 'shop.example.test', ca.caPem)).body).toBe('web');
    expect(await (await get('api.localhost')).text()).toBe('api');
    expect((await get('later.localhost')).status).toBe(404); // project "later" may come
    expect(await (await get('deep.name.localhost')).text()).toBe('web');
    expect(warnings).toEqual([
      { msg: "Host name is another project's own address; ignored", hostname: 'api.localhost', ignored: 'web' },
      { msg: "Host name is another project's own address; ignored", hostname: 'later.localhost', ignored: 'web' },
    ]);
  });
});
