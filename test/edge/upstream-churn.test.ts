/**
 * The native engine's upstream pool under load when the upstream closes connections itself: after
 * a number of requests (as nginx does at keepalive_requests, with or without saying so), after an
 * idle time (keepalive_timeout), or by refusing them. The pool must reopen only what was closed,
 * never open more connections than requests in flight plus those closures, and never loop.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { closeAll, onCleanup, startEdge, until } from './helpers.ts';

afterEach(closeAll);

const ROUTE = (target: string) => [{ project: 'web', hostnames: [], targets: [target] }];
/** The pool is the native engine's, whichever engine the other edge tests run on. */
const NATIVE = { engine: 'native' as const };

interface Policy {
  /** Close the connection after this many requests on it. */
  maxRequests?: number;
  /** Whether the last response says `Connection: close` (nginx does) or the close comes unannounced. */
  announce?: boolean;
  /** Close a connection idle for this long. */
  idleMs?: number;
  /** The status of the nth request. */
  status?: (n: number) => number;
}

/** A raw keep-alive upstream closing connections by `policy`; counts what it accepted and closed. */
function closingUpstream(policy: Policy) {
  const seen = { accepted: 0, closed: 0, requests: 0, open: 0 };
  type State = { buf: string; served: number; idle?: ReturnType<typeof setTimeout> };
  const armIdle = (s: Bun.Socket<State>) => {
    if (policy.idleMs === undefined) return;
    clearTimeout(s.data.idle);
    s.data.idle = setTimeout(() => s.end(), policy.idleMs);
  };
  const listener = Bun.listen<State>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(s) {
        s.data = { buf: '', served: 0 };
        seen.accepted += 1;
        seen.open += 1;
        armIdle(s);
      },
      data(s, chunk) {
        s.data.buf += chunk.toString('latin1');
        for (let end = s.data.buf.indexOf('\r\n\r\n'); end !== -1; end = s.data.buf.indexOf('\r\n\r\n')) {
          s.data.buf = s.data.buf.slice(end + 4);
          s.data.served += 1;
          const status = policy.status?.(++seen.requests) ?? 200;
          const last = policy.maxRequests !== undefined && s.data.served >= policy.maxRequests;
          const close = last && policy.announce ? 'Connection: close\r\n' : '';
          s.write(`HTTP/1.1 ${status} X\r\nContent-Length: 2\r\n${close}\r\nok`);
          if (last) return void s.end();
          armIdle(s);
        }
      },
      close(s) {
        clearTimeout(s.data.idle);
        seen.closed += 1;
        seen.open -= 1;
      },
    },
  });
  onCleanup(() => listener.stop(true));
  return { address: `127.0.0.1:${listener.port}`, seen };
}

/** `rounds` bursts of `clients` concurrent requests through the edge; returns the statuses seen, counted. */
async function load(port: number, clients: number, rounds: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  for (let round = 0; round < rounds; round++) {
    const burst = Array.from({ length: clients }, async () => {
      const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { host: 'web.localhost' } });
      await res.arrayBuffer();
      return res.status;
    });
    for (const status of await Promise.all(burst)) statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  return statuses;
}

describe('the upstream pool when the upstream closes connections', () => {
  test('reopens only the connections an upstream closed with Connection: close after N requests', async () => {
    const app = closingUpstream({ maxRequests: 10, announce: true });
    const { port, edge } = startEdge(ROUTE(app.address), NATIVE);
    expect(await load(port, 40, 10)).toEqual(new Map([[200, 400]]));
    // 400 requests, each connection closed after its 10th: at most 40 + 400 / 10 connections.
    expect(app.seen.accepted).toBeLessThanOrEqual(80);
    expect(edge.upstreamConnectionsOpened()).toBe(app.seen.accepted);
  });

  test('retries a GET once when an upstream closed a pooled connection unannounced, and never answers 502', async () => {
    const app = closingUpstream({ maxRequests: 10, announce: false });
    const { port } = startEdge(ROUTE(app.address), NATIVE);
    expect(await load(port, 40, 10)).toEqual(new Map([[200, 400]]));
    // Each unannounced close costs at most one request a retry: 40 + 400 / 10 + 400 / 10.
    expect(app.seen.accepted).toBeLessThanOrEqual(120);
  });

  test('drops connections the upstream closed while idle and reopens at most one per request in flight', async () => {
    const app = closingUpstream({ idleMs: 50 });
    const { port, edge } = startEdge(ROUTE(app.address), NATIVE);
    let before = 0;
    for (let round = 0; round < 3; round++) {
      expect(await load(port, 30, 2)).toEqual(new Map([[200, 60]]));
      // The upstream closed everything it had: this round could only have run on new connections.
      expect(app.seen.accepted).toBeGreaterThan(before);
      before = app.seen.accepted;
      await until(() => app.seen.open === 0);
    }
    // At most 30 requests in flight per load, plus at most one retry each: 3 × (30 + 30).
    expect(app.seen.accepted).toBeLessThanOrEqual(180);
    expect(edge.upstreamConnectionsOpened()).toBe(app.seen.accepted);
  });

  test('keeps connections that carried 404 and 500 answers, opening no more than the requests in flight', async () => {
    const app = closingUpstream({ status: (n) => (n % 3 === 0 ? 500 : n % 3 === 1 ? 404 : 200) });
    const { port } = startEdge(ROUTE(app.address), NATIVE);
    const statuses = await load(port, 50, 6);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(300);
    expect(statuses.get(404)).toBe(100);
    expect(app.seen.accepted).toBeLessThanOrEqual(50);
  });

  test('answers 502 at once when the target refuses connections, with one connect attempt per request', async () => {
    const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
    const refused = `127.0.0.1:${probe.port}`;
    probe.stop(true);
    const { port, edge } = startEdge(ROUTE(refused), NATIVE);
    expect(await load(port, 20, 5)).toEqual(new Map([[502, 100]]));
    expect(edge.upstreamConnectionsOpened()).toBe(100);
    // Nothing keeps connecting once the requests were answered.
    await Bun.sleep(100);
    expect(edge.upstreamConnectionsOpened()).toBe(100);
  });
});
