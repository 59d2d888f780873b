/**
 * The fast lane: hot GET reads (and the health check, which is what a start waits for) answered
 * straight from Bun's router, without Elysia's per-request context (which costs more than the rest
 * of such a request) nor, for the first request after a start, the compilation of Elysia's handler. Each route it answers is
 * an Elysia route, whose access rule, handler and schemas it takes from the route itself
 * (contract.ts); the request is admitted by the same function as Elysia's gate (admission.ts), and
 * errors become the same envelopes (errors.ts). What the lane does not reproduce (another method,
 * HEAD included, or path parameters its schema refuses, which Elysia answers with a 422) it hands
 * to Elysia untouched, before admitting it, so no request is counted twice.
 */
import type { AnyElysia } from 'elysia';
import type { BunRequest, Server } from 'bun';
import type { Logger } from '../../log.ts';
import { AppError, RateLimitedError } from '../../errors.ts';
import { writeGateHeaders, type Admit } from '../admission.ts';
import { unboundRequestState } from '../request-state.ts';
import { authorizeState } from '../access.ts';
import { clientIp } from '../client-ip.ts';
import { appErrorResponse, unexpectedErrorResponse } from '../errors.ts';
import { routeContract, type RouteContract } from './contract.ts';
import { bodySerializer, OffSchemaError } from './bodies.ts';
import { jsonResponse } from './headers.ts';
import type { RateDecision } from '../rate-limiter.ts';

/** What the lane needs besides the app: the gate's admission and the error log. */
export interface LaneDeps {
  admit: Admit;
  log: Logger;
}

/** A Bun route handler. */
export type Handler = (request: BunRequest, server: Server<unknown>) => Response | Promise<Response>;

/**
 * Puts the lane in front of `app` for `GET paths`: Elysia's Bun adapter hands `config.serve.routes`
 * to Bun.serve's router when the app listens; `app.handle()` (the tests) never sees them.
 */
export function installFastLane(app: AnyElysia, paths: readonly string[], deps: LaneDeps): void {
  const routes = fastLaneRoutes(app, paths, deps);
  app.config.serve = { ...app.config.serve, routes } as typeof app.config.serve;
}

/**
 * Bun.serve `routes` answering `GET paths` of `app`; anything else goes to `toElysia`, by default
 * `app.fetch` (the health-only app of src/api/early.ts hands it to the whole app instead). Elysia's
 * routes that a lane path's parameters would swallow (`…/deployments/compare` next to
 * `…/deployments/:id`) are routed to Elysia by name, as static routes win in Bun's router too.
 */
export function fastLaneRoutes(
  app: AnyElysia,
  paths: readonly string[],
  deps: LaneDeps,
  toElysia: Handler = (request) => app.fetch(request),
): Record<string, { GET: Handler } | Handler> {
  const routes: Record<string, { GET: Handler } | Handler> = {};
  for (const path of paths) {
    routes[path] = { GET: fastRead(routeContract(app, path), toElysia, deps) };
    for (const other of moreSpecific(app, path)) routes[other] ??= toElysia;
  }
  return routes;
}

/** The paths of `app`'s routes that have a literal segment where `path` has a parameter, and match it elsewhere. */
function moreSpecific(app: AnyElysia, path: string): string[] {
  const mine = path.split('/');
  const specific = (theirs: string[]) => {
    let literalForParam = false;
    for (const [i, segment] of mine.entries()) {
      const other = theirs[i]!;
      if (segment.startsWith(':')) literalForParam ||= !other.startsWith(':');
      else if (other !== segment) return false;
    }
    return literalForParam;
  };
  const paths = app.routes.map((r) => r.path).filter((p) => p.split('/').length === mine.length);
  return [...new Set(paths.filter((p) => specific(p.split('/'))))];
}

function fastRead(contract: RouteContract, toElysia: Handler, { admit, log }: LaneDeps): Handler {
  const { rule, handler, params } = contract;
  const serialize = bodySerializer(contract.path, contract.response);
  return (request, server) => {
    // Bun serves HEAD through a GET route; Elysia answers it (no body, a Content-Length).
    const values = request.params;
    if (request.method !== 'GET' || (params && !params.Check(values))) return toElysia(request, server);
    const state = unboundRequestState(request, () => clientIp(server.requestIP(request)?.address, request.headers));
    let decision: RateDecision | undefined;
    try {
      decision = admit(request, state);
      if (!decision.allowed) throw new RateLimitedError(decision.resetSeconds);
      const principal = authorizeState(rule, state, values, undefined);
      const answer = handler({ params: values, principal });
      if (!(answer instanceof Promise)) return jsonResponse(serialize(answer), state.requestId, decision);
      const allowed = decision;
      return answer
        .then((body: unknown) => jsonResponse(serialize(body), state.requestId, allowed))
        .catch((error: unknown) => refused(error, request, state.requestId, allowed, log));
    } catch (error) {
      return refused(error, request, state.requestId, decision, log);
    }
  };
}

/** The envelope of an error thrown while answering, labelled with the gate's headers once a decision was made. */
function refused(
  error: unknown,
  request: Request,
  requestId: string,
  decision: RateDecision | undefined,
  log: Logger,
): Response {
  // A refusal made while admitting (the console cookie on a cross-site change) has no decision yet.
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (decision) writeGateHeaders(headers, requestId, decision);
  return refusal(error, request, requestId, headers, log);
}

/** The envelope of an error thrown while answering, with the gate's headers, as Elysia's error mapper makes it. */
function refusal(
  error: unknown,
  request: Request,
  requestId: string,
  headers: Record<string, string>,
  log: Logger,
): Response {
  if (error instanceof AppError) return appErrorResponse(error, requestId, headers);
  const code = error instanceof OffSchemaError ? 'VALIDATION' : 'UNKNOWN';
  const where = { requestId, method: 'GET', path: new URL(request.url).pathname, code };
  return unexpectedErrorResponse(log, error, where, headers);
}
