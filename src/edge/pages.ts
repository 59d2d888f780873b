/**
 * The pages the edge answers with itself, when no app can: visitors see a short, styled
 * explanation instead of a bare status line, and nothing about Slipway's internals.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';

/** The statuses the edge produces on its own. */
export type EdgeStatus = 400 | 404 | 502 | 503 | 504;

/** Seconds a visitor is asked to wait when a project has no healthy instance. */
const RETRY_AFTER_SECONDS = 5;

const PAGES: Record<EdgeStatus, { title: string; text: string }> = {
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
};

/** Status, headers and body of the edge's page for `status`; a HEAD request gets no body. */
function page(status: EdgeStatus, method: string): { headers: Record<string, string>; body: string } {
  const { title, text } = PAGES[status];
  const html = render(status, title, text);
  const headers: Record<string, string> = {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(html)),
  };
  if (status === 503) headers['retry-after'] = String(RETRY_AFTER_SECONDS);
  return { headers, body: method === 'HEAD' ? '' : html };
}

/** The edge's own response for `status`: a small HTML page that is never cached. */
export function edgePage(status: EdgeStatus, method = 'GET'): Response {
  const { headers, body } = page(status, method);
  return new Response(method === 'HEAD' ? null : body, { status, headers });
}

/** Answers on a visitor's response with the edge's page for `status`. */
export function writeEdgePage(res: ServerResponse, status: EdgeStatus, method = 'GET'): void {
  const { headers, body } = page(status, method);
  res.writeHead(status, headers);
  res.end(body);
}

/** The page as raw HTTP/1.1 bytes, for a socket that left the HTTP server (a WebSocket upgrade). */
export function rawEdgePage(status: EdgeStatus, method = 'GET'): string {
  const { headers, body } = page(status, method);
  const lines = Object.entries({ ...headers, connection: 'close' }).map(([name, value]) => `${name}: ${value}`);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
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
