/**
 * The API's listener before the whole app is built (src/api/early.ts): health answers at once,
 * the whole app is built once, on the first request for anything else or after its delay, every
 * request gets the whole app's answer, and both apps count against the same limits.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { AnyElysia } from 'elysia';
import { createApp } from '../../src/app.ts';
import { apiAdmission } from '../../src/api/shell.ts';
import { listenApi, type ApiListener } from '../../src/api/early.ts';
import { makeTestApp } from '../helpers/app.ts';

const t = makeTestApp({ SLIPWAY_RATE_LIMIT_IP: '4' });
const listeners: ApiListener[] = [];
afterAll(async () => {
  for (const l of listeners) await l.stop();
  t.close();
});

/** Each test runs on each engine: Bun.serve on the port, and the front before it (src/api/front). */
const ENGINES = ['serve', 'native'] as const;
let engine: (typeof ENGINES)[number] = 'serve';

/** A listener whose whole app is built only when `release()` is called (or at once with `immediate`). */
function listen(buildAfterMs = 60_000, immediate = false) {
  const admit = apiAdmission(t.deps);
  let builds = 0;
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const listener = listenApi(
    t.deps,
    admit,
    { hostname: '127.0.0.1', port: 0, maxRequestBodySize: 1024 * 1024, engine },
    async () => {
      builds++;
      if (!immediate) await released;
      return createApp(t.deps, admit) as AnyElysia;
    },
    buildAfterMs,
  );
  listeners.push(listener);
  const url = (path: string) => `http://127.0.0.1:${listener.port}${path}`;
  return { listener, url, release, builds: () => builds };
}

const auth = () => ({ authorization: `Bearer ${t.adminToken}` });

for (const each of ENGINES)
  describe(`the API listener (${each}) before the whole app is built`, () => {
    beforeAll(() => {
      engine = each;
    });

    test('answers health at once, without building the whole app', async () => {
      const { url, builds } = listen();
      const res = await fetch(url('/v1/health'));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ database: { ok: true }, version: expect.any(String) });
      expect(res.headers.get('x-request-id')).toStartWith('req_');
      expect(builds()).toBe(0);
    });

    test('builds the whole app once, on the first request health cannot answer, and answers it as the whole app', async () => {
      const { url, release, builds } = listen();
      const waiting = Promise.all([
        fetch(url('/v1/me'), { headers: auth() }),
        fetch(url('/v1/projects'), { headers: auth() }),
        fetch(url('/v1/health'), { method: 'HEAD' }),
      ]);
      await Bun.sleep(50);
      expect(builds()).toBe(1);
      release();
      const [me, projects, head] = await waiting;
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ name: 'admin', scope: 'admin' });
      expect(projects.status).toBe(200);
      expect(await projects.json()).toEqual({ data: [], pagination: { next_cursor: null, has_more: false } });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
      // Built: the lane's other reads and Elysia's routes answer without building again.
      const [unknown, spec] = await Promise.all([
        fetch(url('/v1/no-such-route'), { headers: auth() }),
        fetch(url('/v1/openapi.json')),
      ]);
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');
      expect(spec.status).toBe(200);
      expect(Object.keys(((await spec.json()) as { paths: object }).paths)).toContain('/v1/projects');
      expect(builds()).toBe(1);
    });

    test('builds the whole app after its delay when no request asks for it', async () => {
      const { listener, builds } = listen(20, true);
      await listener.app();
      expect(builds()).toBe(1);
    });

    test('counts requests to health and to the whole app against the same limits', async () => {
      const { url, release } = listen();
      release();
      const remaining = async (path: string) => {
        const res = await fetch(url(path));
        await res.arrayBuffer();
        return [res.status, res.headers.get('x-ratelimit-remaining')];
      };
      // The per-IP limit is 4 a minute; each listener here has a limiter of its own.
      expect(await remaining('/v1/health')).toEqual([200, '3']);
      expect(await remaining('/v1/projects')).toEqual([401, '2']);
      expect(await remaining('/v1/health')).toEqual([200, '1']);
      expect(await remaining('/v1/health')).toEqual([200, '0']);
      expect(await remaining('/v1/projects')).toEqual([429, '0']);
    });

    test('reports a whole app that cannot be built, and answers no request as if it were', async () => {
      const admit = apiAdmission(t.deps);
      const listener = listenApi(
        t.deps,
        admit,
        { hostname: '127.0.0.1', port: 0, maxRequestBodySize: 1024 * 1024, engine },
        () => Promise.reject(new Error('Routes without an access rule: GET /v1/x')),
        60_000,
      );
      listeners.push(listener);
      const res = await fetch(`http://127.0.0.1:${listener.port}/v1/me`, { headers: auth() });
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: { code: string; request_id: string } };
      expect(body.error.code).toBe('internal_error');
      expect(res.headers.get('x-request-id')).toBe(body.error.request_id);
      await expect(listener.failed).rejects.toThrow('Routes without an access rule');
    });
  });
