import { Elysia } from 'elysia';
import { openapi } from '@elysiajs/openapi';
import scalarBundle from '../../../node_modules/@scalar/api-reference/dist/browser/standalone.js' with { type: 'text' };
import { VERSION } from '../../version.ts';
import { accessPlugin } from '../access.ts';

/** Where the spec and the reference are served. */
export const SPEC_PATH = '/v1/openapi.json';
export const DOCS_PATH = '/docs';
const SCALAR_PATH = '/docs/assets/scalar.js';

const DESCRIPTION = `Slipway's REST API. Send \`Authorization: Bearer slw_…\`; only the health check, this
spec and the reference are public. Tokens have a scope (read < deploy < admin) and may be limited to
named projects; each operation lists the scope it needs under \`x-slipway-access\`.

Errors always have the shape \`{"error": {"code", "message", "request_id", "issues"?}}\`. Lists are
keyset-paginated: \`{"data": [...], "pagination": {"next_cursor", "has_more"}}\`, with \`limit\` (1-100,
default 50) and \`cursor\`. Every response carries \`X-Request-Id\` and \`X-RateLimit-*\` headers.`;

/** GET /v1/openapi.json (OpenAPI 3.1) and GET /docs, whose script is served by the binary itself. */
export function docsRoutes() {
  return new Elysia()
    .use(accessPlugin)
    .use(
      openapi({
        path: DOCS_PATH,
        specPath: SPEC_PATH,
        provider: 'scalar',
        scalar: { cdn: SCALAR_PATH, withDefaultFonts: false, telemetry: false } as never,
        exclude: { paths: [SCALAR_PATH] },
        documentation: {
          info: { title: 'Slipway API', version: VERSION, description: DESCRIPTION, license: { name: 'MIT', identifier: 'MIT' } },
          servers: [{ url: '/', description: 'This agent' }],
          tags: [
            { name: 'System', description: 'Health of the agent' },
            { name: 'Tokens', description: 'API tokens and the calling identity' },
            { name: 'Projects', description: 'Apps and their settings' },
            { name: 'Activity', description: 'The audit log' },
          ],
          components: {
            securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token, slw_…' } },
          },
        },
      }),
    )
    .get(SCALAR_PATH, () => new Response(scalarBundle, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' } }), {
      access: 'public',
      detail: { hide: true },
    });
}

/** Routes the openapi plugin registers itself, which cannot carry an `access` option. */
export const DOC_PLUGIN_ROUTES = new Set([`GET ${SPEC_PATH}`, `GET ${DOCS_PATH}`]);
