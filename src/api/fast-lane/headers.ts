/**
 * The lane's 200 answers: Elysia's JSON content type and the gate's headers (admission.ts). Bun
 * builds a response's headers from a plain object one entry at a time, and each `set` on a Headers
 * costs about half a microsecond on a busy socket, while a Headers given to a Response is copied in
 * one go (the Response keeps its own copy, as the Fetch standard says). So each limit and reset
 * second has one Headers holding all seven of the gate's headers in their final order: the four
 * that are the same for that whole second (content type, limit, policy, reset), and the three that
 * change with each request, which are overwritten in place just before the copy. That skips the
 * response's own `headers` wrapper and keeps the entries' list at its size. The values come from
 * the gate's own functions.
 */
import type { RateDecision } from '../rate-limiter.ts';
import { rateLimitField, windowHeaders } from '../admission.ts';

/** The content type Elysia gives a JSON body. */
export const JSON_TYPE = 'application/json;charset=utf-8';

const prepared = new WeakMap<object, Headers>();

/** A 200 answer of JSON `body` to the request `requestId`, under the rate-limit decision `d`. */
export function jsonResponse(body: string, requestId: string, d: RateDecision): Response {
  const headers = headersFor(d);
  headers.set('x-request-id', requestId);
  headers.set('x-ratelimit-remaining', String(d.remaining));
  headers.set('ratelimit', rateLimitField(d));
  return new Response(body, { headers });
}

/** The Headers of `d`'s limit and reset second, with the per-request entries holding the last request's values. */
function headersFor(d: RateDecision): Headers {
  const window = windowHeaders(d.limit, d.resetSeconds);
  let headers = prepared.get(window);
  if (!headers) {
    headers = new Headers([['content-type', JSON_TYPE], ...window.map(([name, value]) => [name, value])]);
    for (const name of ['x-request-id', 'x-ratelimit-remaining', 'ratelimit']) headers.set(name, '');
    prepared.set(window, headers);
  }
  return headers;
}
