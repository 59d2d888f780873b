import { Elysia } from 'elysia';
import type { TokenService } from '../tokens/service.ts';
import { RateLimitedError, UnsupportedMediaTypeError } from '../errors.ts';
import { jsonTooLarge, readJsonBody } from './json-body.ts';
import { clientIp } from './client-ip.ts';
import { initRequestState, type RequestState } from './request-state.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** The largest JSON body any route takes. */
const MAX_JSON_BYTES = 1024 * 1024;

/** The `body` of routes that read their request stream themselves. */
export const RAW_BODY = Object.freeze({ raw: true });

/** Limits per minute; the keys are a valid token's id, else the client IP. */
export interface RateLimits {
  perToken: number;
  perIp: number;
}

/**
 * The first thing every request meets, before routing and body parsing: it gets a request
 * id, its bearer token is resolved to a principal (or a reason for refusal, which the access
 * macro reports on protected routes), and it is counted against its rate limit.
 */
export function gatePlugin(
  tokens: TokenService,
  limits: RateLimits,
  limiter: RateLimiter,
  rawBodyPaths: readonly RegExp[] = [],
  /** Authenticates a request without an Authorization header (the console's session cookie). */
  cookieAuth?: (request: Request, state: RequestState) => void,
) {
  return new Elysia({ name: 'slipway/gate' })
    .onRequest(({ request, server, set }) => {
      const state = initRequestState(request, () => clientIp(server?.requestIP(request)?.address, request.headers));
      set.headers['x-request-id'] = state.requestId;

      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1];
      if (bearer) {
        const result = tokens.authenticate(bearer);
        if (typeof result === 'string') state.authFailure = result;
        else state.principal = result;
      } else if (request.headers.has('authorization')) {
        state.authFailure = 'malformed';
      } else {
        cookieAuth?.(request, state);
      }

      const decision = state.principal
        ? limiter.hit(`tok:${state.principal.id}`, limits.perToken)
        : limiter.hit(`ip:${state.clientIp}`, limits.perIp);
      set.headers['x-ratelimit-limit'] = String(decision.limit);
      set.headers['x-ratelimit-remaining'] = String(decision.remaining);
      set.headers['x-ratelimit-reset'] = String(decision.resetSeconds);
      set.headers['ratelimit-policy'] = `${decision.limit};w=60`;
      set.headers.ratelimit = `limit=${decision.limit}, remaining=${decision.remaining}, reset=${decision.resetSeconds}`;
      if (!decision.allowed) throw new RateLimitedError(decision.resetSeconds);
    })
    .onParse({ as: 'global' }, ({ request, path, contentType }) => {
      // Upload routes stream their body themselves (with their own, larger limit): leave it unread.
      if ((request.method === 'POST' || request.method === 'PUT') && rawBodyPaths.some((p) => p.test(path)))
        return RAW_BODY;
      // JSON is the only body the API parses, and it is small. This runs before the access check,
      // so an unauthenticated caller is held to the limit too.
      if (Number(request.headers.get('content-length') ?? 0) > MAX_JSON_BYTES) throw jsonTooLarge(MAX_JSON_BYTES);
      // Without a Content-Type the body is not read at all.
      if (contentType === '') return;
      if (/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) return readJsonBody(request, MAX_JSON_BYTES);
      if (request.headers.get('content-length') === '0') return {};
      throw new UnsupportedMediaTypeError(`Unsupported content type "${contentType}": send application/json`);
    })
    .as('global');
}
