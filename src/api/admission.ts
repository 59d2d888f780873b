/**
 * What every request to the API meets first, without Elysia: its caller resolved from the bearer
 * token (or the console's cookie), and a hit on its rate limit, under the request id of the state
 * made for it (request-state.ts). The Elysia gate (gate.ts) and the fast lane (fast-lane/lane.ts)
 * both admit requests through this one function, so the two paths cannot count, authenticate or
 * label a request differently.
 */
import type { TokenService } from '../tokens/service.ts';
import type { RequestLike, RequestState } from './request-state.ts';
import type { RateDecision, RateLimiter } from './rate-limiter.ts';

/** Limits per minute; the keys are a valid token's id, else the client IP. */
export interface RateLimits {
  perToken: number;
  perIp: number;
}

/**
 * Admits one request whose state (its request id, its client address) the caller made: resolves
 * its caller into `state` and counts it against its rate limit. The client address is asked only
 * when the per-IP limit or the activity log needs it.
 */
export type Admit = (request: RequestLike, state: RequestState) => RateDecision;

/** Authenticates the console's session cookie, for a request without an Authorization header. */
export type CookieAuth = (request: RequestLike, state: RequestState) => void;

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The admission of the API's requests: one token service, one set of limits, one limiter. */
export function admission(
  tokens: TokenService,
  limits: RateLimits,
  limiter: RateLimiter,
  cookieAuth?: CookieAuth,
): Admit {
  return (request, state) => {
    const authorization = request.headers.get('authorization');
    // One clock read for the token's expiry and the rate window.
    const now = Date.now();
    if (authorization === null) {
      cookieAuth?.(request, state);
    } else {
      const bearer = bearerToken(authorization);
      const result = bearer ? tokens.authenticate(bearer, now) : 'malformed';
      if (typeof result === 'string') state.authFailure = result;
      else state.principal = result;
    }
    // A token is counted under its id (tok_…, which no client address can be), without building a key.
    return state.principal
      ? limiter.hit(state.principal.id, limits.perToken, now)
      : limiter.hit(`ip:${state.clientIp}`, limits.perIp, now);
  };
}

/**
 * The token of an `Authorization: Bearer <token>` header (the scheme in any case, any whitespace
 * around the token), or undefined. The usual form, `Bearer ` and a token of letters, digits, `_`
 * and `-`, is read without running the regular expression, which costs an authenticated read more
 * than the rest of its parsing; it gives the same answer as the expression for it.
 */
export function bearerToken(authorization: string): string | undefined {
  if (authorization.startsWith('Bearer ') && authorization.length > 7 && isTokenChars(authorization, 7)) {
    return authorization.slice(7);
  }
  return BEARER.exec(authorization)?.[1];
}

function isTokenChars(value: string, from: number): boolean {
  for (let i = from; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alnum && c !== 95 && c !== 45) return false;
  }
  return true;
}

/**
 * Admits `request` under `state`; when admission itself refuses it (the console cookie on a
 * cross-site change), labels `headers` with the request id first, so that the refusal carries it
 * like every answer.
 */
export function admitOrLabel(
  admit: Admit,
  request: Request,
  state: RequestState,
  headers: Record<string, string>,
): RateDecision {
  try {
    return admit(request, state);
  } catch (error) {
    headers['x-request-id'] = state.requestId;
    throw error;
  }
}

/** Writes the headers every API response carries (its request id, its rate-limit state) into `headers`. */
export function writeGateHeaders(headers: Record<string, string>, requestId: string, d: RateDecision): void {
  const changing = changingGateHeaders(requestId, d);
  for (let i = 0; i < changing.length; i += 2) headers[changing[i]!] = changing[i + 1]!;
  for (const [name, value] of windowHeaders(d.limit, d.resetSeconds)) headers[name] = value;
}

/** The gate's headers that change from one request to the next, as name, value, name, value… */
export function changingGateHeaders(requestId: string, d: RateDecision): string[] {
  return ['x-request-id', requestId, 'x-ratelimit-remaining', String(d.remaining), 'ratelimit', rateLimitField(d)];
}

/** The value of the `RateLimit` header (IETF draft's form) for decision `d`. */
export function rateLimitField(d: RateDecision): string {
  return `limit=${d.limit}, remaining=${d.remaining}, reset=${d.resetSeconds}`;
}

/** Header lists by limit, then by seconds to the window's reset (1–60). */
const byLimit = new Map<number, (readonly (readonly [string, string])[])[]>();

/**
 * The gate's headers that depend only on the limit and the seconds left in its window, the same
 * for every request of that second: made once per pair, and the same array each time, so that a
 * caller may keep what it derives from it.
 */
export function windowHeaders(limit: number, resetSeconds: number): readonly (readonly [string, string])[] {
  let byReset = byLimit.get(limit);
  if (!byReset) {
    byReset = [];
    byLimit.set(limit, byReset);
  }
  let headers = byReset[resetSeconds];
  if (!headers) {
    headers = [
      ['x-ratelimit-limit', String(limit)],
      ['ratelimit-policy', `${limit};w=60`],
      ['x-ratelimit-reset', String(resetSeconds)],
    ];
    byReset[resetSeconds] = headers;
  }
  return headers;
}
