/**
 * The MCP server's side, in process, against a fake agent: which tools each scope is offered, what
 * each call sends, and how refusals come back. The dead-letter tool is checked against the contract
 * of GET /v1/ops/dead-letter (newest first, paginated, ?project=), which another branch implements.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ApiClient } from '../../src/cli/client.ts';
import { createMcpServer } from '../../src/mcp/server.ts';
import type { Scope } from '../../src/mcp/tools.ts';
import { apiError, fakeAgent, json, page } from '../cli/harness.ts';

const DEAD = {
  data: [
    {
      id: 'dl_2',
      kind: 'deployment',
      project: 'web',
      reason: 'Health check failed',
      retry: { method: 'POST', path: '/v1/projects/web/deployments/dep_2/retry' },
    },
  ],
  pagination: { next_cursor: 'c2', has_more: true },
};

const agent = fakeAgent({
  'GET /v1/ops/dead-letter': () => json(DEAD),
  'GET /v1/projects/web/env': () =>
    page([{ key: 'API_KEY', value: '••••••', managed_by: null, created_at: 'x', updated_at: 'x' }]),
  'GET /v1/projects/gone': () => apiError(404, 'not_found', 'No project named "gone"'),
});
afterAll(() => agent.stop());

async function connect(scope: Scope): Promise<Client> {
  const server = createMcpServer(new ApiClient({ url: agent.url, token: 'slw_test' } as never), scope, '/');
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: 'test', version: '1' });
  await client.connect(b);
  return client;
}

const text = (r: Awaited<ReturnType<Client['callTool']>>) => (r.content as { type: string; text: string }[])[0]!.text;

describe('the MCP tools', () => {
  test('a read token is offered the read tools only; deploy adds deploying and rolling back', async () => {
    const read = (await (await connect('read')).listTools()).tools.map((t) => t.name);
    expect(read).toEqual([
      'status',
      'list_projects',
      'get_project',
      'list_deployments',
      'get_deployment',
      'deployment_logs',
      'list_env',
      'list_domains',
      'dead_letter',
    ]);
    const deploy = (await (await connect('deploy')).listTools()).tools.map((t) => t.name);
    expect(deploy).toEqual([...read, 'deploy_directory', 'rollback']);
    const tools = (await (await connect('admin')).listTools()).tools;
    expect(tools.find((t) => t.name === 'dead_letter')!.annotations?.readOnlyHint).toBe(true);
    expect(tools.find((t) => t.name === 'deploy_directory')!.inputSchema.required).toEqual(['directory']);
  });

  test('dead_letter asks GET /v1/ops/dead-letter with the project, page size and cursor, and returns the page', async () => {
    const client = await connect('read');
    const r = await client.callTool({ name: 'dead_letter', arguments: { project: 'web', limit: 5, cursor: 'c1' } });
    expect(JSON.parse(text(r))).toEqual(DEAD);
    const sent = agent.received.filter((x) => x.path === '/v1/ops/dead-letter').at(-1)!;
    expect(sent.query).toEqual({ project: 'web', limit: '5', cursor: 'c1' });
    expect(sent.headers.get('authorization')).toBe('Bearer slw_test');
  });

  test('list_env never asks for revealed values', async () => {
    const r = await (await connect('admin')).callTool({ name: 'list_env', arguments: { project: 'web' } });
    expect(text(r)).toContain('••••••');
    expect(agent.received.filter((x) => x.path === '/v1/projects/web/env').at(-1)!.query).toEqual({});
  });

  test("an API refusal comes back as a tool error with the API's message and request id", async () => {
    const r = await (await connect('read')).callTool({ name: 'get_project', arguments: { project: 'gone' } });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe('No project named "gone"\nrequest id: req_abc123');
  });

  test('refuses arguments outside the schema before any request', async () => {
    const before = agent.received.length;
    const r = await (await connect('read')).callTool({ name: 'get_project', arguments: { project: '../tokens' } });
    expect(r.isError).toBe(true);
    expect(agent.received.length).toBe(before);
  });
});
