/**
 * What every API route stands on, shared by the whole app (app.ts) and the health-only app that
 * answers while the whole one is being built (src/api/early.ts): the admission of requests and
 * the Elysia instance before its routes (the gate, the error mapper, the access macro).
 */
import { Elysia } from 'elysia';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { TokenService } from '../tokens/service.ts';
import type { SessionService } from '../sessions/service.ts';
import { accessPlugin } from './access.ts';
import { errorPlugin } from './errors.ts';
import { gatePlugin } from './gate.ts';
import { RateLimiter } from './rate-limiter.ts';
import { admission, type Admit } from './admission.ts';
import { sessionAuthenticator } from './session-cookie.ts';

/** What the shell needs of the agent's wiring. */
export interface ShellDeps {
  config: Pick<Config, 'rateLimitToken' | 'rateLimitIp'>;
  log: Logger;
  tokens: TokenService;
  sessions: SessionService;
}

/** The API's admission: one token service, the configured limits, and one limiter for every route. */
export function apiAdmission(deps: ShellDeps): Admit {
  return admission(
    deps.tokens,
    { perToken: deps.config.rateLimitToken, perIp: deps.config.rateLimitIp },
    new RateLimiter(),
    sessionAuthenticator(deps.sessions),
  );
}

/**
 * The API's Elysia instance before its routes. normalize: false, so a request with a field the
 * schema does not know (a typo) is a 422, not silently dropped; responses are built field by field
 * from explicit views, never from rows. encodeSchema: false, so responses are checked by the
 * compiled validator instead of TypeBox's interpreted Encode (a third of a GET's time): the only
 * transforms in the response schemas are t.Integer's, whose encode is the identity, and the check
 * still rejects a response off its schema. systemRouter: false, so that every request is served
 * through app.fetch, exactly as app.handle() does in tests, instead of also registering each
 * route with Bun's own router (about 2 µs per route at start, 36 ms in all, for no measured gain
 * per request); the exception is the fast lane's few hot reads, which Bun's router answers
 * without Elysia's context.
 */
export function apiShell(
  deps: ShellDeps,
  admit: Admit,
  allowedMethods: (path: string) => string[],
  rawBodyPaths: readonly RegExp[],
) {
  return new Elysia({ normalize: false, encodeSchema: false, systemRouter: false })
    .use(gatePlugin(admit, rawBodyPaths))
    .use(errorPlugin(deps.log, allowedMethods))
    .use(accessPlugin);
}
