/**
 * What the native engine assumes of Bun.listen (and of node:tls, for HTTPS): each read arrives in a
 * buffer of its own that is not reused, so a request head may point into the bytes it was parsed from for as long as its
 * exchange lasts (request-head.ts, `source`). A Bun release that pooled read buffers would fail here.
 */
import { expect, test } from 'bun:test';
import { connect, createServer } from 'node:tls';
import { testCa } from '../tls-helpers.ts';

/** Sends 60 writes from each of `clients`, a millisecond apart, and waits until `kept` holds some. */
async function trickle(clients: { write(s: string): unknown }[], kept: { chunk: Buffer }[]): Promise<void> {
  for (let i = 0; i < 60; i++) {
    clients[i % clients.length]!.write(`request ${i} ${'x'.repeat(i * 7)}`);
    await Bun.sleep(1);
  }
  const deadline = Date.now() + 5000;
  while (kept.reduce((n, k) => n + k.chunk.length, 0) < 60 * 10 && Date.now() < deadline) await Bun.sleep(5);
}

test('a chunk Bun hands a data handler keeps its bytes after later reads on the same and other sockets', async () => {
  const kept: { chunk: Buffer; copy: string }[] = [];
  const listener = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: { data: (_socket, chunk) => void kept.push({ chunk, copy: chunk.toString('latin1') }) },
  });
  const clients = await Promise.all(
    [0, 1].map(() => Bun.connect({ hostname: '127.0.0.1', port: listener.port, socket: { data() {} } })),
  );
  try {
    await trickle(clients, kept);
    expect(kept.length).toBeGreaterThan(10);
    for (const { chunk, copy } of kept) expect(chunk.toString('latin1')).toBe(copy);
    expect(new Set(kept.map((k) => k.chunk.buffer)).size).toBe(kept.length);
  } finally {
    for (const c of clients) c.end();
    listener.stop(true);
  }
});

test('so does a chunk node:tls hands the HTTPS listener, which adopts its sockets', async () => {
  const cert = testCa().issue(['localhost']);
  const kept: { chunk: Buffer; copy: string }[] = [];
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (socket) => {
    socket.on('data', (chunk: Buffer) => void kept.push({ chunk, copy: chunk.toString('latin1') }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const clients = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<ReturnType<typeof connect>>((resolve) => {
          const c = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () =>
            resolve(c),
          );
        }),
    ),
  );
  try {
    await trickle(clients, kept);
    expect(kept.length).toBeGreaterThan(10);
    for (const { chunk, copy } of kept) expect(chunk.toString('latin1')).toBe(copy);
  } finally {
    for (const c of clients) c.destroy();
    server.close();
  }
});
