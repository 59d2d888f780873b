import { afterEach, describe, expect, test } from 'bun:test';
import { closeAll, namedUpstream, startEdge, upstream } from './helpers.ts';

afterEach(closeAll);

describe('routing by Host', () => {
  test('routes <project>.<baseDomain> and custom hostnames to the project, ignoring case and port', async () => {
    const web = namedUpstream('web');
    const api = namedUpstream('api');
    const { get } = startEdge([
      { project: 'web', hostnames: ['www.example.com'], targets: [web] },
      { project: 'api', hostnames: [], targets: [api] },
    ]);

    expect(await (await get('web.localhost')).text()).toBe('web');
    expect(await (await get('WEB.LocalHost:8080')).text()).toBe('web');
    expect(await (await get('www.Example.com')).text()).toBe('web');
    expect(await (await get('api.localhost:80')).text()).toBe('api');
  });

  test('answers an unknown host with a 404 page', async () => {
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [namedUpstream('web')] }]);
    const res = await get('nope.localhost');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain('No app is deployed at this address');
  });

  test('answers a known project without instances with a 503 page and Retry-After', async () => {
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [] }]);
    const res = await get('web.localhost');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.text()).toContain('503');
  });

  test('spreads requests round robin across two targets', async () => {
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [namedUpstream('a'), namedUpstream('b')] }]);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await (await get('web.localhost')).text());
    expect(seen).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
  });

  test('passes the path and query to the upstream as the visitor sent them', async () => {
    const echo = upstream((req) => new Response(req.url.slice(req.url.indexOf('/', 8)))).address;
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [echo] }]);
    const res = await get('web.localhost', '/a/b%20c?x=%zz&y=1&y=2');
    expect(await res.text()).toBe('/a/b%20c?x=%zz&y=1&y=2');
  });
});

describe('setRoutes', () => {
  test('swaps the whole table atomically under constant load: no request fails, responses switch', async () => {
    const a = namedUpstream('a');
    const b = namedUpstream('b');
    const { edge, get } = startEdge([{ project: 'web', hostnames: [], targets: [a] }]);

    let running = true;
    const flipper = (async () => {
      for (let i = 0; running; i++) {
        edge.setRoutes([{ project: 'web', hostnames: [], targets: [i % 2 ? a : b] }]);
        await Bun.sleep(3);
      }
    })();
    const seen = { a: 0, b: 0, failed: 0 };
    const worker = async () => {
      while (running) {
        const res = await get('web.localhost').catch(() => null);
        const body = res?.status === 200 ? await res.text() : '';
        if (body === 'a' || body === 'b') seen[body]++;
        else seen.failed++;
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await Bun.sleep(1000);
    running = false;
    await Promise.all([flipper, ...workers]);

    expect(seen.failed).toBe(0);
    expect(seen.a).toBeGreaterThan(50);
    expect(seen.b).toBeGreaterThan(50);
  });

  test('sends nothing new to a removed target', async () => {
    const a = namedUpstream('a');
    const b = namedUpstream('b');
    const { edge, get } = startEdge([{ project: 'web', hostnames: [], targets: [a, b] }]);
    edge.setRoutes([{ project: 'web', hostnames: [], targets: [b] }]);
    for (let i = 0; i < 4; i++) expect(await (await get('web.localhost')).text()).toBe('b');
  });
});

describe('stats', () => {
  test('counts requests by project and status class, with a latency histogram per project', async () => {
    const { edge, get } = startEdge([
      { project: 'web', hostnames: [], targets: [namedUpstream('web')] },
      { project: 'down', hostnames: [], targets: [] },
    ]);
    await get('web.localhost');
    await get('web.localhost');
    await get('down.localhost');
    await get('unknown.localhost');

    const { requests, latency } = edge.stats();
    expect(requests).toContainEqual({ project: 'web', statusClass: '2xx', count: 2 });
    expect(requests).toContainEqual({ project: 'down', statusClass: '5xx', count: 1 });
    expect(requests).toContainEqual({ project: '', statusClass: '4xx', count: 1 });
    const web = latency.find((h) => h.project === 'web')!;
    expect(web.count).toBe(2);
    expect(web.buckets.at(-1)).toEqual({ le: Infinity, count: 2 });
  });
});
