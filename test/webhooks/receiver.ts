/** A webhook receiver on 127.0.0.1 for tests: records every request and answers as the test says. */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** One request the receiver got. */
export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A running receiver; `respond` decides each answer (by the number of the request, from 1). */
export interface Receiver {
  url: string;
  port: number;
  got: Received[];
  respond: (n: number, req: Received) => Response | Promise<Response>;
  /** Resolves once `n` requests have come, or rejects after `ms`. */
  waitFor(n: number, ms?: number): Promise<Received[]>;
  stop(): void;
}

/** Starts a receiver answering 200 until told otherwise. */
export function startReceiver(): Receiver {
  const got: Received[] = [];
  const r: Receiver = {
    url: '',
    port: 0,
    got,
    respond: () => new Response('ok'),
    async waitFor(n, ms = 15_000) {
      const until = Date.now() + ms;
      while (got.length < n) {
        if (Date.now() > until) throw new Error(`the receiver got ${got.length} requests, not ${n}, in ${ms} ms`);
        await Bun.sleep(10);
      }
      return got;
    },
    stop: () => void server.stop(true),
  };
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const received: Received = {
        path: new URL(req.url).pathname,
        headers: Object.fromEntries(req.headers),
        body: await req.text(),
      };
      got.push(received);
      return r.respond(got.length, received);
    },
  });
  r.port = server.port!;
  r.url = `http://127.0.0.1:${server.port}/hook`;
  return r;
}

/**
 * Checks a Slipway-Signature the way the README's snippet does, written out here rather than
 * calling Slipway's own code: HMAC-SHA256 of `<t>.<body>`, hex, within five minutes.
 */
export function signatureValid(secret: string, header: string | undefined, body: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  if (Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}
