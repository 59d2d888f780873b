/**
 * Small response bodies (up to WHOLE_BODY_LIMIT) are read whole before the visitor's head goes
 * out, collected into the buffer they are sent from (src/edge/http1/whole-body.ts): these check
 * the bytes, the framing and the connection's fate when such a body arrives in many reads.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { createServer, type Socket } from 'node:net';
import { WHOLE_BODY_LIMIT } from '../../src/edge/http-exchange.ts';
import { closeAll, onCleanup, parseRaw, rawConnection, rawHttp, startEdge } from './helpers.ts';

afterEach(closeAll);

/**
 * An upstream on node:net (it buffers what the socket cannot take) that answers each request head
 * with `body` under a Content-Length, in reads of `piece` bytes, a turn of the event loop apart;
 * `cutAt` ends the connection after that many body bytes.
 */
async function piecewise(body: Uint8Array, piece: number, cutAt = body.length): Promise<string> {
  const answer = (socket: Socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`);
    let at = 0;
    const next = () => {
      if (socket.destroyed) return;
      if (at >= cutAt) {
        if (cutAt < body.length) socket.destroy();
        return;
      }
      socket.write(body.subarray(at, Math.min(at + piece, cutAt)));
      at += piece;
      setTimeout(next, 0);
    };
    next();
  };
  const server = createServer((socket) => {
    let seen = '';
    socket.on('data', (chunk) => {
      seen += chunk.toString('latin1');
      while (seen.includes('\r\n\r\n')) {
        seen = seen.slice(seen.indexOf('\r\n\r\n') + 4);
        answer(socket);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => server.close());
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** Splits `raw` into its first response (framed by Content-Length) and what follows it. */
function firstResponse(raw: string): { response: ReturnType<typeof parseRaw>; rest: string } {
  const end = raw.indexOf('\r\n\r\n') + 4;
  const head = parseRaw(raw.slice(0, end));
  const length = Number(head.headers.get('content-length')?.[0]);
  return { response: { ...head, body: raw.slice(end, end + length) }, rest: raw.slice(end + length) };
}

describe('small bodies read whole', () => {
  // Below JOIN_LIMIT a body is joined with the head in one buffer; above it, kept as its reads.
  test.each([
    ['a body of exactly the limit in 64 KiB reads', WHOLE_BODY_LIMIT, 64 * 1024],
    ['a body of 100 KiB in 16 KiB reads', 100 * 1024, 16 * 1024],
  ])(
    '%s arrives byte for byte with its Content-Length, and the connection serves the next request',
    async (_name, size, piece) => {
      const body = crypto.getRandomValues(new Uint8Array(size));
      const app = await piecewise(body, piece);
      const { port } = startEdge([{ project: 'web', hostnames: [], targets: [app] }]);

      const raw = await rawHttp(
        port,
        'GET /a HTTP/1.1\r\nHost: web.localhost\r\n\r\nGET /b HTTP/1.1\r\nHost: web.localhost\r\nConnection: close\r\n\r\n',
      );
      const first = firstResponse(raw);
      const second = firstResponse(first.rest);
      for (const { response } of [first, second]) {
        expect(response.status).toBe(200);
        expect(response.headers.get('content-length')).toEqual([String(size)]);
        expect(response.headers.has('transfer-encoding')).toBe(false);
        expect(Buffer.compare(Buffer.from(response.body, 'latin1'), Buffer.from(body))).toBe(0);
      }
      expect(second.response.headers.get('connection')).toEqual(['close']);
      expect(second.rest).toBe('');
    },
  );

  test('an upstream that dies halfway through a body of the limit is a clean 502: no byte of the body reaches the visitor', async () => {
    const body = Buffer.alloc(WHOLE_BODY_LIMIT, 0x61);
    const app = await piecewise(body, 64 * 1024, WHOLE_BODY_LIMIT / 2);
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [app] }]);

    const raw = await rawHttp(port, 'GET / HTTP/1.1\r\nHost: web.localhost\r\nConnection: close\r\n\r\n');
    const { status, body: page } = parseRaw(raw);
    expect(status).toBe(502);
    expect(page).not.toContain('aaaa');
  });

  // node:http (SLIPWAY_EDGE_ENGINE=node) keeps such a connection open, waiting for the rest of the body.
  const nativeOnly = process.env.SLIPWAY_EDGE_ENGINE === 'node' ? test.skip : test;
  nativeOnly.each([
    ['a body of 100 KiB', 100 * 1024],
    ['a body of 300 KiB', 300 * 1024],
  ])(
    '%s answered before the request body has all arrived goes out whole, and then the connection closes',
    async (_name, size) => {
      const body = crypto.getRandomValues(new Uint8Array(size));
      const app = await piecewise(body, 16 * 1024);
      const { port } = startEdge([{ project: 'web', hostnames: [], targets: [app] }]);

      const conn = await rawConnection(port);
      conn.socket.write('POST /upload HTTP/1.1\r\nHost: web.localhost\r\nContent-Length: 100000\r\n\r\nonly the start');
      const { data } = await conn.closed;
      const { response, rest } = firstResponse(data);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-length')).toEqual([String(body.length)]);
      expect(response.headers.get('connection')).toEqual(['close']);
      expect(Buffer.compare(Buffer.from(response.body, 'latin1'), Buffer.from(body))).toBe(0);
      expect(rest).toBe('');
    },
  );
});
