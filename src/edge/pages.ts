/**
 * The responses the edge makes itself. Pages, when no app can answer: visitors see a short, styled
 * explanation instead of a bare status line, and nothing about Slipway's internals. And the plain
 * ones: a challenge's body, a redirect to HTTPS.
 */
import type { ServerResponse } from 'node:http';
import { STATUS_TEXTS } from './status-texts.ts';

/** The statuses the edge produces on its own. */
export type EdgeStatus = 400 | 404 | 502 | 503 | 504;

/** A page of the edge: one per status, and a 503 for a name that must wait for its certificate. */
export type EdgePage = EdgeStatus | 'https_not_ready';

/** A response the edge writes itself, whole. */
export interface OwnAnswer {
  status: number;
  headers: Record<string, string>;
  /** Empty for a HEAD request. */
  body: string;
}

/** Seconds a visitor is asked to wait when a project has no healthy instance. */
const RETRY_AFTER_SECONDS = 5;

const PAGES: Record<EdgePage, { title: string; text: string; status?: EdgeStatus }> = {
  400: {
    title: 'Bad request',
    text: 'The request has an invalid Host header or target, so it cannot be routed.',
  },
  404: {
    title: 'Not found',
    text: 'No app is deployed at this address.',
  },
  502: {
    title: 'Bad gateway',
    text: 'The app at this address could not be reached. It may be restarting; try again shortly.',
  },
  503: {
    title: 'Service unavailable',
    text: 'The app at this address has no running instance right now. Try again in a few seconds.',
  },
  504: {
    title: 'Gateway timeout',
    text: 'The app at this address took too long to answer.',
  },
  https_not_ready: {
    status: 503,
    title: 'HTTPS is not ready',
    text: 'This address is served over HTTPS only, and its certificate is not issued yet. Try again in a few minutes.',
  },
};

/** The status a page is sent with. */
export function statusOf(page: EdgePage): EdgeStatus {
  return typeof page === 'number' ? page : PAGES[page].status!;
}

/** The edge's page: small HTML that is never cached; a HEAD request gets no body. */
export function pageAnswer(page: EdgePage, method = 'GET'): OwnAnswer {
  const status = statusOf(page);
  const { title, text } = PAGES[page];
  const html = render(status, title, text);
  const headers: Record<string, string> = {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(html)),
  };
  if (status === 503) headers['retry-after'] = String(RETRY_AFTER_SECONDS);
  return { status, headers, body: method === 'HEAD' ? '' : html };
}

/** A challenge's body as text/plain, uncached. */
export function challengeAnswer(body: string, method = 'GET'): OwnAnswer {
  const headers = {
    'content-type': 'text/plain',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(body)),
  };
  return { status: 200, headers, body: method === 'HEAD' ? '' : body };
}

/** A permanent redirect with an empty body: 301 for GET and HEAD, 308 (method and body kept) otherwise. */
export function redirectAnswer(location: string, method = 'GET'): OwnAnswer {
  const status = method === 'GET' || method === 'HEAD' ? 301 : 308;
  return { status, headers: { location, 'content-length': '0' }, body: '' };
}

/** The edge's own response for `status`: a small HTML page that is never cached. */
export function edgePage(status: EdgeStatus, method = 'GET'): Response {
  const { headers, body } = pageAnswer(status, method);
  return new Response(method === 'HEAD' ? null : body, { status, headers });
}

/** Answers on a visitor's response with `answer`, plus `extra` headers (a raw list). */
export function writeAnswer(res: ServerResponse, answer: OwnAnswer, extra: readonly string[] = []): void {
  res.writeHead(answer.status, [...Object.entries(answer.headers).flat(), ...extra]);
  res.end(answer.body);
}

/** Answers on a visitor's response with the edge's page for `status`. */
export function writeEdgePage(
  res: ServerResponse,
  status: EdgeStatus,
  method = 'GET',
  extra?: readonly string[],
): void {
  writeAnswer(res, pageAnswer(status, method), extra);
}

/** `answer` as raw HTTP/1.1 bytes, for a socket that left the HTTP server (a WebSocket upgrade). */
export function rawAnswer(answer: OwnAnswer): string {
  const lines = Object.entries({ ...answer.headers, connection: 'close' }).map(([name, value]) => `${name}: ${value}`);
  return `HTTP/1.1 ${answer.status} ${STATUS_TEXTS[answer.status]}\r\n${lines.join('\r\n')}\r\n\r\n${answer.body}`;
}

function render(status: number, title: string, text: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${status} ${title}</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; color: #222; max-width: 36rem; margin: 15vh auto; padding: 0 1rem; }
h1 { font-size: 1.25rem; margin: 0 0 .5rem; }
p { margin: 0; color: #555; }
</style>
</head>
<body>
<h1>${status} ${title}</h1>
<p>${text}</p>
</body>
</html>
`;
}
