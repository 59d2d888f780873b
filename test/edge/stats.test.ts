/** The edge's request counters on their own. */
import { expect, test } from 'bun:test';
import { EdgeStats } from '../../src/edge/stats.ts';

test('counts requests by project and status class in the order first seen, with latency buckets', () => {
  const stats = new EdgeStats();
  stats.record('web', 200, 3);
  stats.record('web', 204, 7);
  stats.record('', 404, 1);
  stats.record('web', 502, 30_000);
  stats.record('web', 299, 5);
  const { requests, latency } = stats.snapshot();
  expect(requests).toEqual([
    { project: 'web', statusClass: '2xx', count: 3 },
    { project: '', statusClass: '4xx', count: 1 },
    { project: 'web', statusClass: '5xx', count: 1 },
  ]);
  const web = latency.find((h) => h.project === 'web')!;
  expect(web.count).toBe(4);
  expect(web.sumMs).toBe(30_015);
  expect(web.buckets[0]).toEqual({ le: 5, count: 2 });
  expect(web.buckets[1]).toEqual({ le: 10, count: 3 });
  expect(web.buckets.at(-2)).toEqual({ le: 10_000, count: 3 });
  expect(web.buckets.at(-1)).toEqual({ le: Infinity, count: 4 });
});
