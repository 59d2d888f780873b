/** The console's one HTML page: every /console path serves it, and the client routes from there. */

/** The console's security headers: its own script and style only, never framed, no referrer. */
export const CONSOLE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The page, with the assets' version in their URLs so browsers may cache them for good. */
export function consolePage(version: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Slipway console</title>
<link rel="stylesheet" href="/console/assets/app.css?v=${version}">
<script type="module" src="/console/assets/app.js?v=${version}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading the console…</p></div>
<noscript>The Slipway console needs JavaScript. The API and the CLI work without it.</noscript>
</body>
</html>
`;
}
