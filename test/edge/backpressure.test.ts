/**
 * A side that stops reading must stop the other side, not fill the edge. Each test runs the edge
 * in its own process, makes one side flood while the other reads nothing for a while, and checks
 * that the flooder could only hand over a bounded amount, that the edge's memory stayed flat, and
 * that once the reader reads again it gets every byte: backpressure, not loss and not a cut.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { type ChildEdge, childEdge } from './child-edge.ts';
import { closeAll, onCleanup, upstream, websocketHandshake } from './helpers.ts';

afterEach(closeAll);

const MiB = 1024 * 1024;
/** How long the flooding side tries. */
const FLOOD_MS = 2000;
/** Most a flooder may hand over while its reader stalls: socket buffers of both hops, not a body. */
const HANDOVER_BUDGET = 48 * MiB;
/** Most the edge's RSS may grow meanwhile. */
const RSS_BUDGET = 30 * MiB;

/** One 64 KiB binary WebSocket frame; client frames are masked (with a zero key, which is allowed). */
function frame(masked: boolean): Buffer {
  const head = [0x82, masked ? 0xff : 0x7f, 0, 0, 0, 0, 0, 1, 0, 0, ...(masked ? [0, 0, 0, 0] : [])];
  return Buffer.concat([Buffer.from(head), Buffer.alloc(64 * 1024, 0x61)]);
}

/** Writes `chunk` again and again for `ms`, only while the socket takes it; returns the bytes written. */
async function flood(socket: Socket, chunk: Buffer, ms: number): Promise<number> {
  let written = 0;
  for (const deadline = Date.now() + ms; !socket.destroyed && Date.now() < deadline; ) {
    if (socket.writableNeedDrain) {
      await drained(socket, 100);
      continue;
    }
    socket.write(chunk);
    written += chunk.length;
    if (written % (4 * MiB) === 0) await Bun.sleep(0);
  }
  return written;
}

/** Resolves on the socket's next 'drain', or after `ms`. */
function drained(socket: Socket, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.off('drain', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    socket.once('drain', done);
  });
}

/** Counts the bytes a socket receives after the end of the first response head. */
function counter(socket: Socket): { head: Promise<string>; body: () => number } {
  let head = '';
  let body = 0;
  let resolveHead: (h: string) => void = () => {};
  const headDone = new Promise<string>((resolve) => (resolveHead = resolve));
  socket.on('data', (chunk: Buffer) => {
    if (head.endsWith('\r\n\r\n')) return void (body += chunk.length);
    const text = head + chunk.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) return void (head = text);
    head = text.slice(0, end + 4);
    body += Buffer.byteLength(text.slice(end + 4), 'latin1');
    resolveHead(head);
  });
  return { head: headDone, body: () => body };
}

/** A raw WebSocket upstream: accepts any handshake and hands each socket to `onOpen`. */
function rawWebSocketUpstream(onOpen: (socket: Socket) => void): string {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (chunk: Buffer) => {
      const key = /sec-websocket-key: *(.+)\r\n/i.exec(chunk.toString('latin1'))![1]!;
      const accept = new Bun.CryptoHasher('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      onOpen(socket);
    });
  });
  server.listen(0, '127.0.0.1');
  onCleanup(() => server.close());
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A raw visitor socket to the edge that has sent `head`. */
function visit(port: number, head: string): Socket {
  const socket = tcpConnect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  socket.write(head);
  onCleanup(() => socket.destroy());
  return socket;
}

const HANDSHAKE = websocketHandshake();

/** Starts a child edge for `target` and returns it with its RSS after a GC. */
async function measuredEdge(target: string): Promise<{ edge: ChildEdge; before: number }> {
  const edge = await childEdge(target);
  onCleanup(() => edge.kill());
  return { edge, before: await edge.ask('reset') };
}

describe('WebSocket backpressure', () => {
  test('a visitor that stops reading stops the upstream, and gets every byte once it reads again', async () => {
    let upstreamWrote: Promise<number> = Promise.resolve(0);
    const app = rawWebSocketUpstream((socket) => void (upstreamWrote = flood(socket, frame(false), FLOOD_MS)));
    const { edge, before } = await measuredEdge(app);
    const visitor = visit(edge.port, HANDSHAKE);
    const received = counter(visitor);
    expect(await received.head).toStartWith('HTTP/1.1 101');
    visitor.pause();

    const wrote = await upstreamWrote;
    expect(wrote).toBeLessThan(HANDOVER_BUDGET);
    expect((await edge.ask('peak')) - before).toBeLessThan(RSS_BUDGET);

    visitor.resume();
    for (let i = 0; i < 200 && received.body() < wrote; i++) await Bun.sleep(25);
    expect(received.body()).toBe(wrote);
  });

  test('an upstream that stops reading stops the visitor, and gets every byte once it reads again', async () => {
    let deaf: Socket | undefined;
    let got = 0;
    const app = rawWebSocketUpstream((socket) => {
      deaf = socket;
      socket.on('data', (chunk: Buffer) => void (got += chunk.length));
      socket.pause();
    });
    const { edge, before } = await measuredEdge(app);
    const visitor = visit(edge.port, HANDSHAKE);
    expect(await counter(visitor).head).toStartWith('HTTP/1.1 101');

    const wrote = await flood(visitor, frame(true), FLOOD_MS);
    expect(wrote).toBeLessThan(HANDOVER_BUDGET);
    expect((await edge.ask('peak')) - before).toBeLessThan(RSS_BUDGET);

    deaf!.resume();
    for (let i = 0; i < 200 && got < wrote; i++) await Bun.sleep(25);
    expect(got).toBe(wrote);
  });
});

describe('HTTP body backpressure', () => {
  test('a download the visitor does not read stops the upstream instead of filling the edge', async () => {
    const TOTAL = 256 * MiB;
    let produced = 0;
    const app = upstream(
      () =>
        new Response(
          new ReadableStream(
            {
              pull(c) {
                if (produced >= TOTAL) return c.close();
                produced += MiB;
                c.enqueue(new Uint8Array(MiB));
              },
            },
            { highWaterMark: 0 },
          ),
          { headers: { 'content-length': String(TOTAL) } },
        ),
    ).address;
    const { edge, before } = await measuredEdge(app);
    const visitor = visit(edge.port, 'GET /download HTTP/1.1\r\nHost: web.localhost\r\n\r\n');
    const received = counter(visitor);
    expect(await received.head).toStartWith('HTTP/1.1 200');
    visitor.pause();

    await Bun.sleep(FLOOD_MS);
    expect(produced).toBeLessThan(HANDOVER_BUDGET);
    expect((await edge.ask('peak')) - before).toBeLessThan(RSS_BUDGET);
  });

  test('an upload the upstream does not read stops the visitor instead of filling the edge', async () => {
    let got = 0;
    const server = createServer((socket) => {
      socket.on('data', (chunk: Buffer) => void (got += chunk.length));
      socket.on('error', () => {});
      // Reads the head and a little, then nothing more.
      setTimeout(() => socket.pause(), 10);
    });
    server.listen(0, '127.0.0.1');
    onCleanup(() => server.close());
    const { edge, before } = await measuredEdge(`127.0.0.1:${(server.address() as { port: number }).port}`);
    const visitor = visit(
      edge.port,
      `POST /upload HTTP/1.1\r\nHost: web.localhost\r\nContent-Length: ${1024 * MiB}\r\n\r\n`,
    );

    const wrote = await flood(visitor, Buffer.alloc(64 * 1024), FLOOD_MS);
    expect(wrote).toBeLessThan(HANDOVER_BUDGET);
    expect(got).toBeLessThan(HANDOVER_BUDGET);
    expect((await edge.ask('peak')) - before).toBeLessThan(RSS_BUDGET);
  });
});
