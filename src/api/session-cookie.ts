/**
 * The console's session cookie, as an authenticator the gate runs when a request carries no
 * Authorization header, and the CSRF rule for it.
 *
 * A browser sends the cookie by itself, so a state-changing request authenticated by it must prove
 * it comes from the console: a same-origin `Sec-Fetch-Site` (or, from browsers that omit it, an
 * `Origin` whose host is the request's own) and the custom `X-Slipway-Csrf` header, which a plain
 * cross-site form or a no-cors fetch cannot send. Bearer tokens are never sent by a browser on its
 * own, so they need neither.
 */
import { ForbiddenError } from '../errors.ts';
import type { SessionService } from '../sessions/service.ts';
import type { RequestLike, RequestState } from './request-state.ts';

/** The cookie's name over plain HTTP (the API listener on loopback, an SSH tunnel). */
export const SESSION_COOKIE = 'slipway_session';
/**
 * Its name over HTTPS. The `__Host-` prefix makes browsers refuse it unless it is Secure, for
 * Path=/ and set by this very host: an app on a sibling subdomain of SLIPWAY_API_DOMAIN cannot
 * plant one (cookie tossing) to sign the console in as someone else.
 */
export const SECURE_SESSION_COOKIE = '__Host-slipway_session';
/** The header every state-changing cookie request must carry (any non-empty value). */
export const CSRF_HEADER = 'x-slipway-csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const sessionIds = new WeakMap<RequestLike, string>();

/** The value of one cookie of a request, or undefined. */
export function readCookie(request: RequestLike, name: string): string | undefined {
  const header = request.headers.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** True when the request came over HTTPS, directly or through the edge (SLIPWAY_API_DOMAIN). */
export function isHttps(request: RequestLike): boolean {
  return request.url.startsWith('https:') || request.headers.get('x-forwarded-proto') === 'https';
}

/** The session cookie's name for a request: the `__Host-` one under HTTPS. */
export function cookieName(secure: boolean): string {
  return secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

/** Set-Cookie for a new session; Secure (and `__Host-`) under HTTPS. */
export function sessionCookie(secret: string, expiresAt: string, secure: boolean): string {
  const maxAge = Math.max(0, Math.floor((Date.parse(expiresAt) - Date.now()) / 1000));
  return `${cookieName(secure)}=${secret}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** Set-Cookie that deletes the session cookie. */
export function clearedCookie(secure: boolean): string {
  return `${cookieName(secure)}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** Throws 403 unless the request is same-origin and carries the CSRF header. */
export function assertSameOrigin(request: RequestLike): void {
  const site = request.headers.get('sec-fetch-site');
  const origin = request.headers.get('origin');
  const host = request.headers.get('x-forwarded-host') ?? request.headers.get('host') ?? new URL(request.url).host;
  let sameOrigin = site === 'same-origin';
  if (site === null && origin !== null) {
    try {
      sameOrigin = new URL(origin).host === host;
    } catch {
      sameOrigin = false;
    }
  }
  if (!sameOrigin) {
    throw new ForbiddenError(
      'Cross-site request refused: a request with the console cookie must come from the console',
    );
  }
  if (!request.headers.get(CSRF_HEADER)) {
    throw new ForbiddenError('Request refused: a request with the console cookie needs the X-Slipway-Csrf header');
  }
}

/** The id of the session a request was authenticated by, if any. */
export function sessionOf(request: Request): string | undefined {
  return sessionIds.get(request);
}

/** The gate's cookie authenticator: sets the principal of a valid session, refusing cross-site changes. */
export function sessionAuthenticator(sessions: SessionService) {
  return (request: RequestLike, state: RequestState): void => {
    const secret = readCookie(request, cookieName(isHttps(request)));
    if (!secret) return;
    const result = sessions.authenticate(secret);
    if (typeof result === 'string') return;
    if (!SAFE_METHODS.has(request.method)) assertSameOrigin(request);
    state.principal = result.principal;
    sessionIds.set(request, result.sessionId);
  };
}
