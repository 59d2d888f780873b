import { afterEach, describe, expect, test } from 'bun:test';
import { clientKey, HEADER_TIMEOUT_MS, MAX_CONNECTIONS_PER_CLIENT } from '../../src/edge/connection-guard.ts';
import { parseCidrList } from '../../src/edge/trusted-proxies.ts';
import { closeAll, namedUpstream, rawConnection, startEdge, until, upstream } from './helpers.ts';

afterEach(closeAll);

const ROUTE = (target: string) => [{ project: 'web', hostnames: [], targets: [target] }];

/** Writes one byte of a never-ending header every 100 ms until the connection closes (a slowloris). */
async function trickle(conn: Awaited<ReturnType<typeof rawConnection>>, limitMs: number): Promise<void> {
  conn.socket.write('GET / HTTP/1.1\r\nHost: web.localhost\r\nX-Slow: ');
  for (const deadline = Date.now() + limitMs; !conn.isClosed() && Date.now() < deadline; ) {
    conn.socket.write('a');
    await Bun.sleep(100);
  }
}

describe('header timeout', () => {
  test('the defaults are 10 s for a request head and 256 connections per client', () => {
    expect(HEADER_TIMEOUT_MS).toBe(10_000);
    expect(MAX_CONNECTIONS_PER_CLIENT).toBe(256);
  });

  test('closes a connection whose head trickles in byte by byte, and one that sends nothing, after the timeout', async () => {
    const { port, get } = startEdge(ROUTE(namedUpstream('web')), { headerTimeoutMs: 1000 });
    const slow = await rawConnection(port);
    const silent = await rawConnection(port);
    void trickle(slow, 10_000);

    // Meanwhile everyone else is served.
    expect(await (await get('web.localhost')).text()).toBe('web');
    for (const conn of [slow, silent]) {
      const { afterMs, data } = await conn.closed;
      expect(data).toBe('');
      expect(afterMs).toBeGreaterThanOrEqual(900);
      expect(afterMs).toBeLessThan(6000);
    }
  });

  test('never times out a request while it is answered: a stream longer than the header timeout completes', async () => {
    const sse = upstream(() => {
      let n = 0;
      return new Response(
        new ReadableStream({
          async pull(c) {
            await Bun.sleep(400);
            c.enqueue(new TextEncoder().encode(`data: ${n}\n\n`));
            if (++n === 5) c.close();
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    }).address;
    const { get } = startEdge(ROUTE(sse), { headerTimeoutMs: 1000 });
    expect(await (await get('web.localhost')).text()).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n');
  });

  test('gives the next head on a kept-alive connection the idle time plus the header timeout, trickling or not', async () => {
    // Bun's keepAliveTimeout (visitorIdleMs) happens to close such a connection too; the guard's deadline backs it.
    const { port } = startEdge(ROUTE(namedUpstream('web')), { headerTimeoutMs: 500, visitorIdleMs: 500 });
    const conn = await rawConnection(port);
    conn.socket.write('GET / HTTP/1.1\r\nHost: web.localhost\r\n\r\n');
    await until(() => conn.received().endsWith('web'));
    const answeredAt = Date.now();
    void trickle(conn, 10_000);
    await conn.closed;
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(900);
    expect(Date.now() - answeredAt).toBeLessThan(6000);
  });
});

describe('connections per client', () => {
  test('refuses a client over the cap while another client is still served', async () => {
    // Long enough a header timeout that the held connections outlive the test.
    const { port } = startEdge(ROUTE(namedUpstream('web')), { headerTimeoutMs: 60_000 });
    const held = [];
    for (let i = 0; i < MAX_CONNECTIONS_PER_CLIENT; i++) {
      const conn = await rawConnection(port);
      conn.socket.write('GET / HTTP/1.1\r\n');
      held.push(conn);
    }
    const refused = await rawConnection(port);
    const { data } = await refused.closed;
    expect(data).toBe('');

    const other = await rawConnection(port, '127.0.0.2');
    other.socket.write('GET / HTTP/1.1\r\nHost: web.localhost\r\nConnection: close\r\n\r\n');
    expect((await other.closed).data).toEndWith('\r\n\r\nweb');
    expect(held.filter((c) => c.isClosed())).toHaveLength(0);

    // A place freed is a place taken again.
    held[0]!.socket.destroy();
    let admitted = false;
    for (let attempt = 0; attempt < 50 && !admitted; attempt++) {
      const again = await rawConnection(port);
      again.socket.write('GET / HTTP/1.1\r\nHost: web.localhost\r\nConnection: close\r\n\r\n');
      admitted = (await again.closed).data.endsWith('web');
      if (!admitted) await Bun.sleep(20);
    }
    expect(admitted).toBe(true);
  });

  test('does not cap a trusted proxy, which carries many visitors', async () => {
    const { port } = startEdge(ROUTE(namedUpstream('web')), {
      maxConnectionsPerClient: 4,
      trustedProxies: parseCidrList('127.0.0.1'),
    });
    const held = [];
    for (let i = 0; i < 6; i++) held.push(await rawConnection(port));
    const last = held.at(-1)!;
    last.socket.write('GET / HTTP/1.1\r\nHost: web.localhost\r\nConnection: close\r\n\r\n');
    expect((await last.closed).data).toEndWith('web');
  });

  test('frees the place of a WebSocket once it closes', async () => {
    const echo = upstream(
      (req, server) => (server.upgrade(req, { data: undefined }) ? undefined : new Response('no', { status: 400 })),
      { message: (ws, m) => void ws.send(m) },
    ).address;
    const { port } = startEdge(ROUTE(echo), { maxConnectionsPerClient: 2 });
    for (let i = 0; i < 6; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { host: 'web.localhost' } });
      const echoed = new Promise((resolve, reject) => {
        ws.onmessage = (e) => resolve(e.data);
        ws.onerror = reject;
      });
      ws.onopen = () => ws.send(`hello ${i}`);
      expect(await echoed).toBe(`hello ${i}`);
      const gone = new Promise((resolve) => (ws.onclose = resolve));
      ws.close();
      await gone;
    }
  });

  test('counts an IPv6 client by its /64 and an IPv4 one by its address', () => {
    expect(clientKey('2001:db8:1:2::1')).toBe(clientKey('2001:db8:1:2:ffff::9'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('192.0.2.1')).not.toBe(clientKey('192.0.2.2'));
  });
});
