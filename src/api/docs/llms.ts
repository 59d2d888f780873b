import { Elysia, t } from 'elysia';
import { VERSION } from '../../version.ts';
import { accessPlugin } from '../access.ts';
import { errors } from '../schemas.ts';
import { SPEC_PATH, DOCS_PATH } from './routes.ts';

/** Where the text for AI agents is served (https://llmstxt.org). */
export const LLMS_PATH = '/llms.txt';

/** The llms.txt document: what Slipway is, how to call it, and where the full contract is. */
export const LLMS_TXT = `# Slipway

> Slipway ${VERSION} is a self-hosted deploy agent: one executable on a VPS with Docker. Upload an app's
> source (.tar.gz, .tar or .zip); Slipway builds an image, starts it, health-checks it and switches
> its HTTP(S) edge to it with zero downtime. State is one SQLite file; the REST API is under /v1.

Every call but GET /v1/health sends \`Authorization: Bearer slw_…\`. Tokens have a scope,
read < deploy < admin, and may be limited to named projects. JSON uses snake_case; lists are
\`{"data": [...], "pagination": {"next_cursor", "has_more"}}\` with \`limit\` and \`cursor\`; every error
is \`{"error": {"code", "message", "request_id"}}\`. Mutations are recorded in the activity log.

Typical flow: POST /v1/projects {"name": "web"}; POST /v1/projects/web/deployments with the archive
as the body (Content-Type: application/gzip), answered 202 with a deployment; follow
GET /v1/projects/web/deployments/{id}/logs?follow=true (Server-Sent Events) until its status is
live or failed; the app answers at web.<base domain>. POST /v1/projects/web/rollback goes back.

## Docs

- [OpenAPI 3.1 specification](${SPEC_PATH}): every route, its parameters, response schemas and the scope it needs (x-slipway-access)
- [API reference](${DOCS_PATH}): the same, browsable

## Tools

- \`slipway mcp\`: a Model Context Protocol server on stdio with tools for status, projects, deploying a directory, deployments and their logs, rollback, env (masked), domains and the dead-letter view; it uses the CLI's login (\`slipway login\`, or SLIPWAY_URL and SLIPWAY_TOKEN), and a read token gets the read tools only
- \`slipway exec -p web -- sh\`: a shell in a live instance (admin tokens), over GET /v1/projects/{name}/exec (a WebSocket)
`;

/** GET /llms.txt: public, plain text. */
export function llmsRoutes() {
  return new Elysia().use(accessPlugin).get(
    LLMS_PATH,
    ({ set }) => {
      set.headers['content-type'] = 'text/plain; charset=utf-8';
      return LLMS_TXT;
    },
    {
      access: 'public',
      detail: {
        summary: 'A description of Slipway for AI agents (llms.txt)',
        description: 'Markdown in the llms.txt format, linking this specification.',
        tags: ['System'],
      },
      response: { 200: t.String({ description: 'llms.txt (Markdown)' }), ...errors(429, 500) },
    },
  );
}
