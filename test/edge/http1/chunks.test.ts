/**
 * What the native engine assumes of Bun.listen: each read arrives in a buffer of its own that Bun
 * does not reuse, so a request head may point into the bytes it was parsed from for as long as its
 * exchange lasts (request-head.ts, `source`). A Bun release that pooled read buffers would fail here.
 */
import { expect, test } from 'bun:test';

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
    for (let i = 0; i < 60; i++) {
      clients[i % 2]!.write(`request ${i} ${'x'.repeat(i * 7)}`);
      await Bun.sleep(1);
    }
    const deadline = Date.now() + 5000;
    while (kept.reduce((n, k) => n + k.chunk.length, 0) < 60 * 10 && Date.now() < deadline) await Bun.sleep(5);
    expect(kept.length).toBeGreaterThan(10);
    for (const { chunk, copy } of kept) expect(chunk.toString('latin1')).toBe(copy);
    expect(new Set(kept.map((k) => k.chunk.buffer)).size).toBe(kept.length);
  } finally {
    for (const c of clients) c.end();
    listener.stop(true);
  }
});
