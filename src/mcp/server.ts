/** `slipway mcp`: a Model Context Protocol server on stdio, built on the official TypeScript SDK. */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ApiClient } from '../cli/client.ts';
import { CliError } from '../cli/errors.ts';
import { VERSION } from '../version.ts';
import { toolsFor, type Scope } from './tools.ts';

const INSTRUCTIONS = `Slipway is a self-hosted deploy agent: it builds an uploaded source directory into an image,
runs it and routes <project>.<base domain> to it with zero downtime. Use deploy_directory to ship a
directory and wait for it to go live; when it fails, read its log_tail (or deployment_logs) and fix
the app. Env values are masked. The tools offered depend on the token's scope.`;

/** An MCP server whose tools call the agent through `client`, limited to what `scope` allows. */
export function createMcpServer(client: ApiClient, scope: Scope, cwd: string): McpServer {
  const server = new McpServer({ name: 'slipway', version: VERSION }, { instructions: INSTRUCTIONS });
  for (const tool of toolsFor(scope)) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        annotations: { readOnlyHint: tool.readOnly, destructiveHint: false, openWorldHint: false },
      },
      async (args: Record<string, unknown>): Promise<CallToolResult> => {
        try {
          const result = await tool.run(client, args, cwd);
          return { content: [{ type: 'text', text: JSON.stringify(result, null, 2) }] };
        } catch (err) {
          return { isError: true, content: [{ type: 'text', text: describe(err) }] };
        }
      },
    );
  }
  return server;
}

/** Serves on stdin/stdout until the client closes them; the token's scope is read from GET /v1/me first. */
export async function serveMcp(client: ApiClient, cwd: string): Promise<void> {
  const me = await client.get<{ scope: Scope }>('/v1/me');
  const server = createMcpServer(client, me.scope, cwd);
  const closed = new Promise<void>((resolve) => (server.server.onclose = resolve));
  await server.connect(new StdioServerTransport());
  // The client closing our stdin is the end of the session.
  process.stdin.once('end', () => void server.close());
  await closed;
}

function describe(err: unknown): string {
  if (err instanceof CliError) return [err.message, ...err.details].join('\n');
  return err instanceof Error ? err.message : String(err);
}
