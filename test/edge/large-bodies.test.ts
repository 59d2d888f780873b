import { afterEach, describe, expect, test } from 'bun:test';
import { childEdge } from './child-edge.ts';
import { closeAll, upstream } from './helpers.ts';

afterEach(closeAll);

const SIZE = 50 * 1024 * 1024;
const CHUNK = 64 * 1024;
/** Growth allowed while 50 MB cross the edge; buffering a body whole would blow through it. */
const RSS_BUDGET = 30 * 1024 * 1024;

/** 50 MB of pseudo-random bytes made on demand, hashed as they are handed out. */
function source(hasher: Bun.CryptoHasher): ReadableStream<Uint8Array> {
  const block = crypto.getRandomValues(new Uint8Array(CHUNK));
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent >= SIZE) return c.close();
      block[0] = sent / CHUNK;
      const chunk = block.slice();
      hasher.update(chunk);
      c.enqueue(chunk);
      sent += CHUNK;
    },
  });
}

/** Reads a stream to its end, hashing it; returns the byte count and digest. */
async function drain(body: ReadableStream<Uint8Array>): Promise<{ bytes: number; sha: string }> {
  const hasher = new Bun.CryptoHasher('sha256');
  let bytes = 0;
  for await (const chunk of body) {
    hasher.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha: hasher.digest('hex') };
}

/** Runs `transfer` through a child edge and returns the edge's peak RSS growth during it. */
async function edgeRssGrowth(target: string, transfer: (port: number) => Promise<void>): Promise<number> {
  const edge = await childEdge(target);
  try {
    // A first run warms the edge up (JIT, connection pools); the second one is measured.
    await transfer(edge.port);
    const before = await edge.ask('reset');
    await transfer(edge.port);
    return (await edge.ask('peak')) - before;
  } finally {
    edge.kill();
  }
}

describe('large bodies', () => {
  test('streams a 50 MB upload to the upstream without holding it in memory', async () => {
    const app = upstream(async (req) => Response.json(await drain(req.body!))).address;
    const growth = await edgeRssGrowth(app, async (port) => {
      const sent = new Bun.CryptoHasher('sha256');
      const res = await fetch(`http://127.0.0.1:${port}/upload`, {
        method: 'POST',
        headers: { host: 'web.localhost' },
        body: source(sent),
        duplex: 'half',
      });
      expect(await res.json()).toEqual({ bytes: SIZE, sha: sent.digest('hex') });
    });
    expect(growth).toBeLessThan(RSS_BUDGET);
  });

  test('streams a 50 MB download to the visitor without holding it in memory', async () => {
    let sent = new Bun.CryptoHasher('sha256');
    const app = upstream(() => new Response(source((sent = new Bun.CryptoHasher('sha256'))))).address;
    const growth = await edgeRssGrowth(app, async (port) => {
      const res = await fetch(`http://127.0.0.1:${port}/download`, { headers: { host: 'web.localhost' } });
      expect(await drain(res.body!)).toEqual({ bytes: SIZE, sha: sent.digest('hex') });
    });
    expect(growth).toBeLessThan(RSS_BUDGET);
  });
});
