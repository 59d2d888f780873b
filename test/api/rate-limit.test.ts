import { afterAll, describe, expect, test } from 'bun:test';
import { RateLimiter } from '../../src/api/rate-limiter.ts';
import { errorOf, makeTestApp } from '../helpers/app.ts';

describe('rate limits over HTTP', () => {
  const t = makeTestApp({ SLIPWAY_RATE_LIMIT_TOKEN: '5', SLIPWAY_RATE_LIMIT_IP: '3' });
  afterAll(() => t.close());

  test('every response carries the limit headers, errors included', async () => {
    const ok = await t.req('GET', '/v1/me');
    expect(ok.headers.get('x-ratelimit-limit')).toBe('5');
    expect(ok.headers.get('x-ratelimit-remaining')).toBe('4');
    expect(Number(ok.headers.get('x-ratelimit-reset'))).toBeWithin(1, 61);
    expect(ok.headers.get('ratelimit-policy')).toBe('5;w=60');
    const notFound = await t.req('GET', '/v1/projects/ghost');
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('x-ratelimit-remaining')).toBe('3');
  });

  test('a token past its limit gets 429 with Retry-After, other tokens do not', async () => {
    for (let i = 0; i < 3; i++) expect((await t.req('GET', '/v1/me')).status).toBe(200);
    const limited = await t.req('GET', '/v1/me');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeWithin(1, 61);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await errorOf(limited)).toMatchObject({ code: 'rate_limited' });
    const other = t.token({ name: 'other', scope: 'read' });
    expect((await t.req('GET', '/v1/me', { token: other })).status).toBe(200);
  });

  test('unauthenticated requests share the lower per-IP limit, invalid tokens included', async () => {
    expect((await t.req('GET', '/v1/health', { token: null })).headers.get('x-ratelimit-limit')).toBe('3');
    expect((await t.req('GET', '/v1/me', { token: 'slw_bogus' })).status).toBe(401);
    expect((await t.req('GET', '/v1/health', { token: null })).status).toBe(200);
    const limited = await t.req('GET', '/v1/health', { token: null });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).not.toBeNull();
  });
});

describe('RateLimiter', () => {
  test('a window resets after a minute', () => {
    const rl = new RateLimiter();
    expect(rl.hit('k', 1, 0).allowed).toBe(true);
    expect(rl.hit('k', 1, 59_999)).toMatchObject({ allowed: false, resetSeconds: 1 });
    expect(rl.hit('k', 1, 60_000)).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 60 });
  });

  test('memory for keys stays bounded under many distinct clients', () => {
    const rl = new RateLimiter(1000);
    for (let i = 0; i < 50_000; i++) rl.hit(`ip:${i}`, 30, i);
    expect(rl.size).toBeLessThanOrEqual(1000);
    // The most recent clients are still counted.
    expect(rl.hit('ip:49999', 30, 50_000).remaining).toBe(28);
  });
});
