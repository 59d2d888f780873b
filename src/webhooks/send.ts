/**
 * One delivery attempt: a JSON POST to the webhook's URL, connected to the address the destination
 * check passed (never resolved again), with a time limit on the whole exchange. Redirects are not
 * followed (a 3xx is a failed attempt) and at most RESPONSE_CAP bytes of the response are read.
 */
import type { LookupFunction } from 'node:net';
import type { CheckedAddress } from './destination.ts';
import { nodeHttp, nodeHttps } from '../lazy-libraries.ts';

/** How much of a response body is read before the connection is closed. */
export const RESPONSE_CAP = 4096;

/** What an attempt found: a status code when a response came, an error otherwise (or for a non-2xx). */
export interface SendResult {
  ok: boolean;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** A request to send. */
export interface Outgoing {
  url: URL;
  address: CheckedAddress;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** Sends `out` and never rejects: every failure becomes a SendResult. */
export function send(out: Outgoing): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      const ok = error === null && status !== null && status >= 200 && status < 300;
      resolve({ ok, status_code: status, error: ok ? null : (error ?? `HTTP ${status}`), duration_ms: elapsed() });
    };
    const pinned: LookupFunction = (_host, opts, cb) => {
      if ((opts as { all?: boolean }).all) (cb as (e: null, a: unknown[]) => void)(null, [out.address]);
      else cb(null, out.address.address, out.address.family);
    };
    const client = out.url.protocol === 'https:' ? nodeHttps() : nodeHttp();
    const req = client.request(out.url, {
      method: 'POST',
      headers: { ...out.headers, 'content-length': String(Buffer.byteLength(out.body)) },
      lookup: pinned,
      agent: false,
    });
    const timer = setTimeout(() => done(null, `timed out after ${out.timeoutMs} ms`), out.timeoutMs);
    req.on('error', (err) => done(null, err.message || 'connection failed'));
    req.on('response', (res) => {
      let read = 0;
      const status = res.statusCode ?? null;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= RESPONSE_CAP) done(status, null);
      });
      res.on('end', () => done(status, null));
      res.on('error', () => done(status, null));
    });
    req.end(out.body);
  });
}
