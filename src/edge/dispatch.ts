/**
 * What the edge does with one request, decided from its head alone, in this order: a malformed
 * request is refused; a challenge is answered on any host and either scheme; the API's own host
 * name goes to the API over HTTPS only; a custom host name that asked for it is sent from HTTP to
 * HTTPS once a certificate covers it; everything else is routed to its project's instances.
 */
import type { CertificateStore } from './certificates.ts';
import type { ChallengeBook } from './challenges.ts';
import { challengeAnswer, type EdgePage, type OwnAnswer, pageAnswer, redirectAnswer } from './pages.ts';
import { normalizeHost, type RouteEntry, type RouteTable } from './route-table.ts';
import { UNROUTED } from './stats.ts';
import type { Target, TargetRegistry } from './target.ts';
import { checkHost, checkRequest } from './visitor-request.ts';

/** The label the API's requests are counted under; no project can have it, since names are DNS labels. */
export const API_PROJECT = '(api)';

/** Strict-Transport-Security as the edge sends it for host names that asked for it: one year. */
const HSTS: readonly string[] = ['strict-transport-security', 'max-age=31536000'];

/** No response headers of the edge's own (one shared, frozen list rather than a new one per request). */
const NONE: readonly string[] = Object.freeze([]);

/** The request goes to `target`, and its response gets `headers` (a raw list) on top of the upstream's. */
export interface Forward {
  project: string;
  target: Target;
  headers: readonly string[];
  /** The project's route, for another target when this one refuses the connection; null for the API. */
  route: RouteEntry | null;
}

/** The edge answers the request itself. */
export interface Answer {
  project: string;
  answer: OwnAnswer;
}

/** Everything a decision reads; the proxy swaps the table and challenges whole at each route store version. */
export interface DispatchState {
  table: RouteTable;
  challenges: ChallengeBook;
  certificates: CertificateStore;
  targets: TargetRegistry;
  /** The API's host name and where it listens, when SLIPWAY_API_DOMAIN is set. */
  api: { domain: string; target: Target } | null;
  /** The port of the HTTPS listener, or null while there is none. */
  httpsPort: number | null;
}

/** What dispatch reads of a request: node:http's IncomingMessage, or a head parsed by the native engine. */
export interface RequestLine {
  method?: string;
  url?: string;
  rawHeaders: string[];
  /** rawHeaders' names lowercased, when the parser made them. */
  names?: readonly string[];
  /**
   * The Host, when a strict parser (the native engine's) already refused a second one, an HTTP/1.1
   * request without one and broken body framing; dispatch then reads no other field.
   */
  checkedHost?: string | null;
}

/** Where `req`, which came in over HTTPS when `secure`, goes. */
export function dispatch(req: RequestLine, secure: boolean, s: DispatchState): Forward | Answer {
  const method = req.method ?? 'GET';
  const path = req.url ?? '';
  const checked =
    req.checkedHost === undefined ? checkRequest(req.rawHeaders, path, req.names) : checkHost(req.checkedHost, path);
  if (!checked.ok) return page(UNROUTED, 400, method);
  const challenge = s.challenges.answer(method, path);
  if (challenge !== undefined) return { project: UNROUTED, answer: challengeAnswer(challenge, method) };
  const name = normalizeHost(checked.host);
  if (s.api && name === s.api.domain) {
    // The API takes bearer tokens: never over plain HTTP on a public name.
    if (secure) return { project: API_PROJECT, target: s.api.target, headers: NONE, route: null };
    return toHttps(name, path, method, s, API_PROJECT) ?? page(API_PROJECT, 'https_not_ready', method);
  }
  const host = s.table.hostEntry(name);
  if (!secure && host?.redirectToHttps) {
    const redirect = toHttps(name, path, method, s, host.project);
    if (redirect) return redirect;
  }
  const headers = secure && host?.hsts ? HSTS : NONE;
  const route = s.table.find(name);
  if (!route) return page(UNROUTED, 404, method);
  const target = pickTarget(route, s.targets);
  if (!target) return page(route.project, 503, method, headers);
  return { project: route.project, target, headers, route };
}

/**
 * The route's next target in round-robin order, passing over `avoid` and targets that just refused
 * a connection; one of those when nothing else is left but them, undefined when nothing is left.
 */
export function pickTarget(route: RouteEntry, targets: TargetRegistry, avoid?: Target): Target | undefined {
  let fallback: Target | undefined;
  for (let i = 0; i < route.targets.length; i++) {
    const address = route.pick();
    const target = address === undefined ? undefined : targets.find(address);
    if (target === undefined || target === avoid) continue;
    if (target.reachable) return target;
    fallback ??= target;
  }
  return fallback;
}

/** A redirect to the same host and path over HTTPS, or null while HTTPS cannot serve `name`. */
function toHttps(name: string, path: string, method: string, s: DispatchState, project: string): Answer | null {
  if (s.httpsPort === null || !s.certificates.covers(name)) return null;
  const port = s.httpsPort === 443 ? '' : `:${s.httpsPort}`;
  return { project, answer: redirectAnswer(`https://${name}${port}${path}`, method) };
}

function page(project: string, which: EdgePage, method: string, headers: readonly string[] = NONE): Answer {
  const answer = pageAnswer(which, method);
  for (let i = 0; i + 1 < headers.length; i += 2) answer.headers[headers[i]!] = headers[i + 1]!;
  return { project, answer };
}
