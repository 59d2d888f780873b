/**
 * The pages the edge answers with itself, when no app can: visitors see a short, styled
 * explanation instead of a bare status line, and nothing about Slipway's internals.
 */

/** The statuses the edge produces on its own. */
export type EdgeStatus = 404 | 502 | 503 | 504;

/** Seconds a visitor is asked to wait when a project has no healthy instance. */
const RETRY_AFTER_SECONDS = 5;

const PAGES: Record<EdgeStatus, { title: string; text: string }> = {
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

/** The edge's own response for `status`: a small HTML page that is never cached. */
export function edgePage(status: EdgeStatus, method = 'GET'): Response {
  const page = PAGES[status];
  const headers = new Headers({
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
  });
  if (status === 503) headers.set('retry-after', String(RETRY_AFTER_SECONDS));
  // A HEAD request gets the status and headers only.
  const body = method === 'HEAD' ? null : render(status, page.title, page.text);
  return new Response(body, { status, headers });
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
