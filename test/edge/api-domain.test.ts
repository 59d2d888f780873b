import { afterEach, describe, expect, test } from 'bun:test';
import { apiAddress } from '../../src/edge/runtime.ts';
import type { AnyElysia } from 'elysia';
import { createApp } from '../../src/app.ts';
import { listenApi } from '../../src/api/early.ts';
import { apiAdmission } from '../../src/api/shell.ts';
import { makeTestApp } from '../helpers/app.ts';
import { closeAll, onCleanup } from './helpers.ts';
import { httpsRequest, startTlsEdge, testCa } from './tls-helpers.ts';

afterEach(closeAll);

const API = 'slipway.example.test';
const CHALLENGE = {
  path: '/.well-known/acme-challenge/api-tok',
  body: 'api-tok.auth',
  expiresAt: '2999-01-01T00:00:00Z',
};

/** The real API listening on loopback (3 unauthenticated requests a minute per IP), and an edge serving it at API. */
function apiBehindEdge(withCertificate = true) {
  const t = makeTestApp({ SLIPWAY_RATE_LIMIT_IP: '3' });
  t.app.listen({ hostname: '127.0.0.1', port: 0 });
  onCleanup(() => {
    t.app.stop(true);
    t.close();
  });
  const ca = testCa();
  const edge = startTlsEdge(
    {
      routes: [],
      certificates: withCertificate ? [ca.issue([API])] : [],
      challenges: [CHALLENGE],
    },
    { api: { domain: API, address: `127.0.0.1:${t.app.server!.port}` } },
  );
  return { t, ca, ...edge };
}

/** As apiBehindEdge, with the API's front on the API's port (SLIPWAY_API_ENGINE=native, src/api/front). */
async function frontBehindEdge() {
  const t = makeTestApp({ SLIPWAY_RATE_LIMIT_IP: '3' });
  const admit = apiAdmission(t.deps);
  const options = { hostname: '127.0.0.1', port: 0, maxRequestBodySize: 1024 * 1024, engine: 'native' as const };
  const listener = listenApi(t.deps, admit, options, async () => createApp(t.deps, admit) as AnyElysia, 60_000);
  await listener.app();
  onCleanup(async () => {
    await listener.stop();
    t.close();
  });
  const ca = testCa();
  const edge = startTlsEdge(
    { routes: [], certificates: [ca.issue([API])], challenges: [CHALLENGE] },
    { api: { domain: API, address: `127.0.0.1:${listener.port}` } },
  );
  return { t, ca, listener, ...edge };
}

describe('the API at SLIPWAY_API_DOMAIN', () => {
  test('is proxied to the API over HTTPS, bearer token and all', async () => {
    const { t, ca, httpsPort } = apiBehindEdge();
    const health = await httpsRequest(httpsPort, API, ca.caPem, { path: '/v1/health' });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: expect.any(String) });
    const me = await httpsRequest(httpsPort, API, ca.caPem, {
      path: '/v1/me',
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect([me.status, JSON.parse(me.body)]).toEqual([200, expect.objectContaining({ name: 'admin', scope: 'admin' })]);
    expect(me.headers['x-request-id']).toStartWith('req_');
  });

  test('is never served over plain HTTP: redirected once a certificate covers the name', async () => {
    const { get, httpsPort } = apiBehindEdge();
    const res = await get(API, '/v1/me', { headers: { authorization: 'Bearer slw_x' } });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe(`https://${API}:${httpsPort}/v1/me`);
    expect((await get(API, '/v1/tokens', { method: 'POST', body: '{}' })).status).toBe(308);
  });

  test('answers plain HTTP with a 503 page until its certificate exists, challenges excepted', async () => {
    const { get } = apiBehindEdge(false);
    const res = await get(API, '/v1/health');
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('HTTPS is not ready');
    const challenge = await get(API, CHALLENGE.path);
    expect([challenge.status, await challenge.text()]).toEqual([200, 'api-tok.auth']);
  });

  test("counts each visitor against the API's per-IP rate limit, whatever X-Forwarded-For or X-Real-IP they send", async () => {
    const { ca, httpsPort } = apiBehindEdge();
    const from = (localAddress: string, headers: Record<string, string> = {}) =>
      httpsRequest(httpsPort, API, ca.caPem, { path: '/v1/health', localAddress, headers }).then((r) => r.status);
    const spoof = { 'x-forwarded-for': '198.51.100.1', 'x-real-ip': '198.51.100.2' };
    expect([await from('127.0.0.2'), await from('127.0.0.2', spoof), await from('127.0.0.2')]).toEqual([200, 200, 200]);
    expect(await from('127.0.0.2', { 'x-real-ip': '198.51.100.3' })).toBe(429);
    expect(await from('127.0.0.3')).toBe(200);
  });

  test('is reached on loopback when the API listens on every address', () => {
    expect(apiAddress({ hostname: '0.0.0.0', port: 7070 })).toBe('127.0.0.1:7070');
    expect(apiAddress({ hostname: '::', port: 7070 })).toBe('::1:7070');
    expect(apiAddress({ hostname: '127.0.0.1', port: 7070 })).toBe('127.0.0.1:7070');
  });
});

describe("the API's front at SLIPWAY_API_DOMAIN", () => {
  test('answers reads through the edge itself, bearer token and all', async () => {
    const { t, ca, httpsPort, listener } = await frontBehindEdge();
    const before = listener.frontAnswered();
    const me = await httpsRequest(httpsPort, API, ca.caPem, {
      path: '/v1/me',
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect([me.status, JSON.parse(me.body)]).toEqual([200, expect.objectContaining({ name: 'admin', scope: 'admin' })]);
    expect(listener.frontAnswered() - before).toBe(1);
  });

  test("counts each visitor against the API's per-IP rate limit, whatever X-Forwarded-For or X-Real-IP they send", async () => {
    const { ca, httpsPort, listener } = await frontBehindEdge();
    const from = (localAddress: string, headers: Record<string, string> = {}) =>
      httpsRequest(httpsPort, API, ca.caPem, { path: '/v1/health', localAddress, headers }).then((r) => r.status);
    const spoof = { 'x-forwarded-for': '198.51.100.1', 'x-real-ip': '198.51.100.2' };
    expect([await from('127.0.0.2'), await from('127.0.0.2', spoof), await from('127.0.0.2')]).toEqual([200, 200, 200]);
    expect(await from('127.0.0.2', { 'x-real-ip': '198.51.100.3' })).toBe(429);
    expect(await from('127.0.0.3')).toBe(200);
    expect(listener.frontAnswered()).toBe(5);
  });
});
