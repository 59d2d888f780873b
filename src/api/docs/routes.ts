import { Elysia } from 'elysia';
import { openapi } from '@elysiajs/openapi';
import scalarBundlePath from '../../../node_modules/@scalar/api-reference/dist/browser/standalone.js' with {
  type: 'file',
};
import { VERSION } from '../../version.ts';
import { accessPlugin } from '../access.ts';
import { fixSpec, type DocumentedRoute } from './spec-fixes.ts';

/** Where the spec and the reference are served. */
export const SPEC_PATH = '/v1/openapi.json';
export const DOCS_PATH = '/docs';
const SCALAR_PATH = '/docs/assets/scalar.js';

const DESCRIPTION = `Slipway's REST API. Send \`Authorization: Bearer slw_…\`; only the health check, this
spec and the reference are public. Tokens have a scope (read < deploy < admin) and may be limited to
named projects; each operation lists the scope it needs under \`x-slipway-access\`.

Errors always have the shape \`{ error: { code, message, request_id, issues? } }\`. Lists are
keyset-paginated: \`{ data: [...], pagination: { next_cursor, has_more } }\`, with \`limit\` (1-100,
default 50) and \`cursor\`. Every response carries \`X-Request-Id\` and \`X-RateLimit-*\` headers.`;
// No double quotes above: the plugin copies the description unescaped into <meta content="…"> on /docs.

/** GET /v1/openapi.json (OpenAPI 3.1) and GET /docs, whose script is served by the binary itself. */
export function docsRoutes() {
  const docs = new Elysia();
  let served: { generated: unknown; fixed: Record<string, unknown> } | undefined;
  return docs
    .use(accessPlugin)
    .onAfterHandle(({ route, response }) => {
      if (route !== SPEC_PATH || !response || typeof response !== 'object') return;
      // The plugin returns the same cached object until routes change; fix each version once.
      if (served?.generated !== response) {
        // getGlobalRoutes is protected; the openapi plugin reads the spec's routes the same way.
        const routes = (docs as unknown as { getGlobalRoutes(): DocumentedRoute[] }).getGlobalRoutes();
        served = { generated: response, fixed: fixSpec(response as Record<string, unknown>, routes) };
      }
      return served.fixed;
    })
    .use(
      openapi({
        path: DOCS_PATH,
        specPath: SPEC_PATH,
        provider: 'scalar',
        // Nothing leaves the host: no fonts from fonts.scalar.com, no telemetry, and none of the
        // buttons that send the spec to Scalar's cloud (Ask AI, Generate MCP, Share/Deploy toolbar).
        scalar: {
          url: SPEC_PATH,
          cdn: SCALAR_PATH,
          withDefaultFonts: false,
          telemetry: false,
          agent: { disabled: true },
          mcp: { disabled: true },
          showDeveloperTools: 'never',
        } as never,
        exclude: { paths: [SCALAR_PATH], staticFile: false },
        documentation: {
          info: {
            title: 'Slipway API',
            version: VERSION,
            description: DESCRIPTION,
            license: { name: 'MIT', identifier: 'MIT' },
          },
          servers: [{ url: '/', description: 'This agent' }],
          tags: [
            { name: 'System', description: 'Health of the agent' },
            { name: 'Tokens', description: 'API tokens and the calling identity' },
            { name: 'Projects', description: 'Apps and their settings' },
            { name: 'Deployments', description: 'Uploads, builds, their logs and history' },
            { name: 'Env', description: 'Secrets given to the app as environment variables' },
            { name: 'Database', description: 'A Postgres per project' },
            { name: 'Certificates', description: 'TLS certificates: ordered over ACME and renewed, or uploaded' },
            { name: 'Observe', description: 'Runtime logs and metrics' },
            { name: 'Lifecycle', description: 'Stop, start, restart, scale and roll back the live release' },
            { name: 'Activity', description: 'The audit log' },
            { name: 'Registries', description: 'Credentials for pulling prebuilt images, per registry host' },
            {
              name: 'Nodes',
              description: 'The machines the apps run on (one engine, or a Swarm) and the tasks on them',
            },
          ],
          components: {
            securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token, slw_…' } },
          },
        },
      }),
    )
    .get(
      SCALAR_PATH,
      // An embedded file, not a string in the bundle: its 4 MiB are read when /docs is opened, not at every start.
      () =>
        new Response(Bun.file(scalarBundlePath as unknown as string), {
          headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' },
        }),
      {
        access: 'public',
        detail: { hide: true },
      },
    );
}

/** Routes the openapi plugin registers itself, which cannot carry an `access` option. */
export const DOC_PLUGIN_ROUTES = new Set([`GET ${SPEC_PATH}`, `GET ${DOCS_PATH}`]);
