/**
 * The lane's 200 answers: Elysia's JSON content type and the gate's headers (admission.ts). Bun
 * builds a response's headers from a plain object one entry at a time, and each `set` on a Headers
 * costs about half a microsecond on a busy socket, so the response is made from a prepared Headers
 * holding every header that is the same for a whole second (content type, limit, policy, reset),
 * which Bun copies in one go, and only the three that change with each request are set on it. The
 * values come from the gate's own functions.
 */
import type { RateDecision } from '../rate-limiter.ts';
import { changingGateHeaders, windowHeaders } from '../admission.ts';

/** The content type Elysia gives a JSON body. */
export const JSON_TYPE = 'application/json;charset=utf-8';

const templates = new WeakMap<object, Headers>();

/** A 200 answer of JSON `body` to the request `requestId`, under the rate-limit decision `d`. */
export function jsonResponse(body: string, requestId: string, d: RateDecision): Response {
  const response = new Response(body, { headers: template(d) });
  const headers = response.headers;
  const changing = changingGateHeaders(requestId, d);
  for (let i = 0; i < changing.length; i += 2) headers.set(changing[i]!, changing[i + 1]!);
  return response;
}

function template(d: RateDecision): Headers {
  const window = windowHeaders(d.limit, d.resetSeconds);
  let headers = templates.get(window);
  if (!headers) {
    headers = new Headers([['content-type', JSON_TYPE], ...window.map(([name, value]) => [name, value])]);
    templates.set(window, headers);
  }
  return headers;
}
