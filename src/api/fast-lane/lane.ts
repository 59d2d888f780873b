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
import { type RequestLike, unboundRequestState } from '../request-state.ts';
import { peerAddress } from '../hop-peers.ts';
import { authorizeState } from '../access.ts';
import { clientIp } from '../client-ip.ts';
import { type AnswerParts, appErrorParts, partsResponse, unexpectedErrorParts } from '../errors.ts';
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

/** A 200 the lane answers: the route's body as JSON, under the request's id and rate-limit decision. */
export interface LaneJson {
  json: string;
  requestId: string;
  decision: RateDecision;
}

/** What the lane made of a request it took: a 200 of JSON, or an error's envelope as Elysia's mapper makes it. */
export type LaneAnswer = LaneJson | AnswerParts;

/**
 * Answers one request for a lane route, given its decoded path parameters and a way to its client's
 * address; undefined when the lane does not take it (it goes to Elysia, not admitted by the lane).
 */
export type LaneRead = (
  request: RequestLike,
  params: Record<string, string>,
  peer: () => string | undefined,
) => LaneAnswer | Promise<LaneAnswer> | undefined;

/** The lane's reads of `app`, by route path, and the paths of the routes a read's parameters would swallow. */
export interface LaneReads {
  reads: { path: string; read: LaneRead }[];
  /** Routes with a literal segment where a read has a parameter (`…/deployments/compare`): Elysia's. */
  handOn: string[];
}

/** The reads of `GET paths` of `app`. */
export function laneReads(app: AnyElysia, paths: readonly string[], deps: LaneDeps): LaneReads {
  const reads = paths.map((path) => ({ path, read: fastRead(routeContract(app, path), deps) }));
  return { reads, handOn: [...new Set(paths.flatMap((path) => moreSpecific(app, path)))] };
}

/**
 * Puts the lane in front of `app` for `GET paths`: Elysia's Bun adapter hands `config.serve.routes`
 * to Bun.serve's router when the app listens; `app.handle()` (the tests) never sees them.
 */
export function installFastLane(app: AnyElysia, paths: readonly string[], deps: LaneDeps): void {
  const lane = laneReads(app, paths, deps);
  installed.set(app, lane);
  const routes = laneRoutes(lane, (request) => app.fetch(request));
  app.config.serve = { ...app.config.serve, routes } as typeof app.config.serve;
}

const installed = new WeakMap<AnyElysia, LaneReads>();

/** The reads installFastLane put in front of `app` (the API's front answers them too), or undefined. */
export function installedLane(app: AnyElysia): LaneReads | undefined {
  return installed.get(app);
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
  return laneRoutes(laneReads(app, paths, deps), toElysia);
}

function laneRoutes({ reads, handOn }: LaneReads, toElysia: Handler): Record<string, { GET: Handler } | Handler> {
  const routes: Record<string, { GET: Handler } | Handler> = {};
  for (const { path, read } of reads) routes[path] = { GET: bunHandler(read, toElysia) };
  for (const other of handOn) routes[other] ??= toElysia;
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

/** A lane read as a Bun route handler, answering with Responses. */
function bunHandler(read: LaneRead, toElysia: Handler): Handler {
  return (request, server) => {
    const answer = read(request, request.params, () => peerAddress(server, request));
    if (answer === undefined) return toElysia(request, server);
    return answer instanceof Promise ? answer.then(asResponse) : asResponse(answer);
  };
}

/** A lane answer as a Response. */
export function asResponse(answer: LaneAnswer): Response {
  return 'json' in answer ? jsonResponse(answer.json, answer.requestId, answer.decision) : partsResponse(answer);
}

function fastRead(contract: RouteContract, { admit, log }: LaneDeps): LaneRead {
  const { rule, handler, params } = contract;
  const serialize = bodySerializer(contract.path, contract.response);
  return (request, values, peer) => {
    // Bun serves HEAD through a GET route; Elysia answers it (no body, a Content-Length).
    if (request.method !== 'GET' || (params && !params.Check(values))) return undefined;
    const state = unboundRequestState(request, () => clientIp(peer(), request.headers));
    let decision: RateDecision | undefined;
    try {
      decision = admit(request, state);
      if (!decision.allowed) throw new RateLimitedError(decision.resetSeconds);
      const principal = authorizeState(rule, state, values, undefined);
      const answer = handler({ params: values, principal });
      const { requestId } = state;
      if (!(answer instanceof Promise)) return { json: serialize(answer), requestId, decision };
      const allowed = decision;
      return answer
        .then((body: unknown): LaneAnswer => ({ json: serialize(body), requestId, decision: allowed }))
        .catch((error: unknown) => refused(error, request, requestId, allowed, log));
    } catch (error) {
      return refused(error, request, state.requestId, decision, log);
    }
  };
}

/** The envelope of an error thrown while answering, labelled with the gate's headers once a decision was made. */
function refused(
  error: unknown,
  request: RequestLike,
  requestId: string,
  decision: RateDecision | undefined,
  log: Logger,
): AnswerParts {
  // A refusal made while admitting (the console cookie on a cross-site change) has no decision yet.
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (decision) writeGateHeaders(headers, requestId, decision);
  return refusal(error, request, requestId, headers, log);
}

/** The envelope of an error thrown while answering, with the gate's headers, as Elysia's error mapper makes it. */
function refusal(
  error: unknown,
  request: RequestLike,
  requestId: string,
  headers: Record<string, string>,
  log: Logger,
): AnswerParts {
  if (error instanceof AppError) return appErrorParts(error, requestId, headers);
  const code = error instanceof OffSchemaError ? 'VALIDATION' : 'UNKNOWN';
  const where = { requestId, method: 'GET', path: new URL(request.url).pathname, code };
  return unexpectedErrorParts(log, error, where, headers);
}
