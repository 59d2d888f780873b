import { afterEach, describe, expect, test } from 'bun:test';
import { closeAll, upstream } from './helpers.ts';
import { httpsRequest, startTlsEdge, testCa } from './tls-helpers.ts';

afterEach(closeAll);

const ACME = '/.well-known/acme-challenge/tok3n';
const CHECK = '/.well-known/slipway-check/c4eck';
const later = () => new Date(Date.now() + 60_000).toISOString();

/** An edge with one app that says what it got, a host that redirects, a certificate for it, and two challenges. */
function edgeWithChallenges(expiresAt = later()) {
  const ca = testCa();
  const app = upstream((req) => new Response(`app got ${req.method} ${new URL(req.url).pathname}`)).address;
  const started = startTlsEdge({
    routes: [{ project: 'web', hostnames: [], targets: [app] }],
    hosts: [{ hostname: 'shop.example.test', project: 'web', redirectToHttps: true, hsts: true }],
    certificates: [ca.issue(['shop.example.test'])],
    challenges: [
      { path: ACME, body: 'tok3n.key-authorization', expiresAt },
      { path: CHECK, body: 'slipway-check c4eck', expiresAt },
    ],
  });
  return { ca, ...started };
}

describe('challenges', () => {
  test('are answered over HTTP for any host: known, unknown, or one that redirects to HTTPS', async () => {
    const { get } = edgeWithChallenges();
    for (const hostname of ['web.localhost', 'nobody.example.test', 'shop.example.test', '203.0.113.7']) {
      const res = await get(hostname, ACME);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain');
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toBe('tok3n.key-authorization');
    }
    expect(await (await get('nobody.example.test', CHECK)).text()).toBe('slipway-check c4eck');
  });

  test('are answered over HTTPS too, without HSTS', async () => {
    const { ca, httpsPort } = edgeWithChallenges();
    const res = await httpsRequest(httpsPort, 'shop.example.test', ca.caPem, { path: ACME });
    expect([res.status, res.headers['content-type'], res.body]).toEqual([200, 'text/plain', 'tok3n.key-authorization']);
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  test('answer HEAD with the headers and no body', async () => {
    const { get } = edgeWithChallenges();
    const res = await get('nobody.example.test', ACME, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String('tok3n.key-authorization'.length));
    expect(await res.text()).toBe('');
  });

  test('leave other methods, other paths under the prefixes and longer paths to routing', async () => {
    const { get } = edgeWithChallenges();
    expect(await (await get('web.localhost', ACME, { method: 'POST', body: 'x' })).text()).toBe(`app got POST ${ACME}`);
    const unknown = '/.well-known/acme-challenge/other';
    expect(await (await get('web.localhost', unknown)).text()).toBe(`app got GET ${unknown}`);
    expect(await (await get('web.localhost', `${ACME}/more`)).text()).toBe(`app got GET ${ACME}/more`);
    expect(await (await get('web.localhost', `${ACME}?x=1`)).text()).toBe(`app got GET ${ACME}`);
    expect((await get('nobody.example.test', unknown)).status).toBe(404);
    // On a host that redirects, an unknown challenge path is redirected like any other.
    expect((await get('shop.example.test', unknown)).status).toBe(301);
  });

  test('are not answered once expired', async () => {
    const { get } = edgeWithChallenges(new Date(Date.now() + 300).toISOString());
    expect((await get('web.localhost', ACME)).status).toBe(200);
    await Bun.sleep(400);
    expect(await (await get('web.localhost', ACME)).text()).toBe(`app got GET ${ACME}`);
  });

  test('still need a well-formed request', async () => {
    const { get } = edgeWithChallenges();
    expect((await get('bad host!', ACME)).status).toBe(400);
  });
});
