import { afterEach, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:https';
import { connect } from 'node:net';
import { closeAll, rawConnection, until, upstream, websocketHandshake } from './helpers.ts';
import { handshake, httpsRequest, startTlsEdge, testCa, type TestCa } from './tls-helpers.ts';

afterEach(closeAll);

const NAME = 'shop.example.test';

/** An edge serving NAME over HTTPS, routed to the upstream at `target`. */
function tlsEdgeFor(
  target: string,
  opts: Parameters<typeof startTlsEdge>[1] = {},
): ReturnType<typeof startTlsEdge> & {
  ca: TestCa;
} {
  const ca = testCa();
  const started = startTlsEdge(
    {
      routes: [{ project: 'web', hostnames: [], targets: [target] }],
      hosts: [{ hostname: NAME, project: 'web', redirectToHttps: true, hsts: false }],
      certificates: [ca.issue([NAME])],
    },
    opts,
  );
  return { ca, ...started };
}

/** A masked client text frame (zero mask key, which RFC 6455 allows) carrying `text` (< 126 bytes). */
function clientText(text: string): Buffer {
  return Buffer.concat([Buffer.from([0x81, 0x80 | text.length, 0, 0, 0, 0]), Buffer.from(text)]);
}

describe('over TLS', () => {
  test('a WebSocket opens, echoes and closes through the edge', async () => {
    const echo = upstream(
      (req, server) => (server.upgrade(req, { data: undefined }) ? undefined : new Response('no', { status: 400 })),
      { message: (ws, m) => void ws.send(`echo ${m}`) },
    ).address;
    const { ca, httpsPort, edge } = tlsEdgeFor(echo);
    const { socket } = await handshake(httpsPort, NAME, ca.caPem);
    let got = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => (got = Buffer.concat([got, chunk])));
    socket.write(websocketHandshake('/socket', NAME));
    await until(() => got.includes('\r\n\r\n'));
    expect(got.toString('latin1')).toStartWith('HTTP/1.1 101 ');
    const afterHead = got.indexOf('\r\n\r\n') + 4;
    socket.write(clientText('hi'));
    await until(() => got.length >= afterHead + 2 + 'echo hi'.length);
    expect(got.subarray(afterHead).toString('latin1')).toBe(`\x81\x07echo hi`);
    expect(edge.inflight(echo)).toBe(1);
    socket.destroy();
    await until(() => edge.inflight(echo) === 0);
  });

  test('an SSE stream arrives event by event', async () => {
    const sse = upstream(() => {
      let n = 0;
      return new Response(
        new ReadableStream({
          async pull(c) {
            await Bun.sleep(100);
            c.enqueue(new TextEncoder().encode(`data: ${n}\n\n`));
            if (++n === 3) c.close();
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    }).address;
    const { ca, httpsPort } = tlsEdgeFor(sse);
    const arrivals: number[] = [];
    const started = Date.now();
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: httpsPort,
        servername: NAME,
        ca: ca.caPem,
        headers: { host: NAME },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          arrivals.push(Date.now() - started);
          text += chunk;
        });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\n');
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(150);
  });

  test('an 8 MiB upload and an 8 MiB download stream through whole', async () => {
    const size = 8 * 1024 * 1024;
    const blob = Buffer.alloc(size, 7);
    const app = upstream(async (req) => {
      if (req.method === 'GET') return new Response(blob);
      const hash = createHash('sha256');
      let length = 0;
      for await (const chunk of req.body!) {
        hash.update(chunk);
        length += chunk.length;
      }
      return new Response(`${length} ${hash.digest('hex')}`);
    }).address;
    const { ca, httpsPort } = tlsEdgeFor(app);
    const upload = Buffer.alloc(size, 3);
    const stored = await new Promise<string>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: httpsPort,
        servername: NAME,
        ca: ca.caPem,
        method: 'POST',
        headers: { host: NAME, 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      for (let at = 0; at < size; at += 256 * 1024) req.write(upload.subarray(at, at + 256 * 1024));
      req.end();
    });
    expect(stored).toBe(`${size} ${createHash('sha256').update(upload).digest('hex')}`);
    const downloaded = await new Promise<number>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: httpsPort,
        servername: NAME,
        ca: ca.caPem,
        headers: { host: NAME },
      });
      req.on('response', (res) => {
        let length = 0;
        res.on('data', (c: Buffer) => (length += c.length));
        res.on('end', () => resolve(length));
      });
      req.on('error', reject);
      req.end();
    });
    expect(downloaded).toBe(size);
  });

  test('a kept-alive connection carries request after request', async () => {
    const app = upstream((req) => new Response(new URL(req.url).pathname)).address;
    const { ca, httpsPort } = tlsEdgeFor(app);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      const answer = await new Promise<string>((resolve, reject) => {
        const req = request({
          host: '127.0.0.1',
          port: httpsPort,
          servername: NAME,
          ca: ca.caPem,
          path: `/${i}`,
          agent,
        });
        req.setHeader('host', NAME);
        req.on('socket', (s) => sockets.add(s));
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end();
      });
      expect(answer).toBe(`/${i}`);
    }
    expect(sockets.size).toBe(1);
    agent.destroy();
  });

  test("a client's connections are capped across HTTP and HTTPS, handshakes included", async () => {
    const app = upstream(() => new Response('web')).address;
    const { ca, port, httpsPort } = tlsEdgeFor(app, { maxConnectionsPerClient: 3, headerTimeoutMs: 60_000 });
    // Bun's node:http reports an HTTP connection once it sent something; its TLS server, on accept.
    (await rawConnection(port)).socket.write('GET / HTTP/1.1\r\n');
    await handshake(httpsPort, NAME, ca.caPem);
    const waiting = await rawConnection(httpsPort); // a TCP connection that has not started its handshake counts too
    await Bun.sleep(100); // for the edge to accept it
    expect(waiting.isClosed()).toBe(false);
    await expect(handshake(httpsPort, NAME, ca.caPem)).rejects.toThrow();
    const other = await httpsRequest(httpsPort, NAME, ca.caPem, { localAddress: '127.0.0.2' });
    expect(other.body).toBe('web');
  });

  test('a connection that never completes its handshake, or its head, is closed after the header timeout', async () => {
    const app = upstream(() => new Response('web')).address;
    const { ca, httpsPort } = tlsEdgeFor(app, { headerTimeoutMs: 1000 });
    const silent = await rawConnection(httpsPort);
    const shaken = await handshake(httpsPort, NAME, ca.caPem);
    const shakenClosed = new Promise<number>((resolve) => {
      const opened = Date.now();
      shaken.socket.once('close', () => resolve(Date.now() - opened));
    });
    shaken.socket.write('GET / HTTP/1.1\r\nHost: shop.example.test\r\n');
    const { afterMs } = await silent.closed;
    expect(afterMs).toBeGreaterThanOrEqual(900);
    expect(afterMs).toBeLessThan(6000);
    expect(await shakenClosed).toBeLessThan(6000);
    expect((await httpsRequest(httpsPort, NAME, ca.caPem)).body).toBe('web');
  });

  test('a plain HTTP request on the HTTPS port gets nowhere', async () => {
    const { httpsPort } = tlsEdgeFor(upstream(() => new Response('web')).address, { headerTimeoutMs: 1000 });
    const received = await new Promise<string>((resolve) => {
      let data = '';
      const socket = connect({ host: '127.0.0.1', port: httpsPort });
      socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => resolve(data));
      socket.write('GET / HTTP/1.1\r\nHost: shop.example.test\r\n\r\n');
    });
    expect(received).not.toContain('web');
  });
});
