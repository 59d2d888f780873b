/**
 * `slipway mcp` end to end: the SDK's own client starts the command on stdio against a real agent,
 * initializes, lists the tools and deploys a directory until it is live.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { retireAgent, startAgent, viaEdge, type Agent } from '../helpers/agent.ts';
import { requireDocker } from '../helpers/docker.ts';

const P = `mcp-${crypto.randomUUID().slice(0, 6)}`;
const MAIN = resolve(import.meta.dir, '../../src/main.ts');
const hasDocker = await requireDocker();
let agent: Agent;

async function connect(token: string): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MAIN, 'mcp'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: '/nonexistent',
      SLIPWAY_URL: agent.api,
      SLIPWAY_TOKEN: token,
    },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'slipway-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

beforeAll(async () => {
  if (hasDocker) agent = await startAgent();
});
afterAll(async () => {
  if (hasDocker) await retireAgent(agent, [P]);
});

describe.skipIf(!hasDocker)('slipway mcp over stdio', () => {
  test('initializes, lists the tools and deploys a directory until it is live', async () => {
    const client = await connect(agent.token);
    expect(client.getServerVersion()?.name).toBe('slipway');
    expect(client.getInstructions()).toContain('deploy_directory');
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('deploy_directory');

    const dir = mkdtempSync(join(tmpdir(), 'slipway-mcp-'));
    writeFileSync(join(dir, 'index.html'), '<h1>deployed by an agent</h1>');
    writeFileSync(join(dir, '.env'), 'SECRET=1');
    const r = await client.callTool(
      { name: 'deploy_directory', arguments: { directory: dir, project: P, create: true, timeout_seconds: 120 } },
      undefined,
      { timeout: 180_000 },
    );
    expect(r.isError).toBeFalsy();
    const outcome = JSON.parse((r.content as { text: string }[])[0]!.text) as {
      deployment: { status: string; id: string };
      url: string;
      left_out_secret_files: string[];
    };
    expect(outcome.deployment.status).toBe('live');
    expect(outcome.url).toBe(`http://${P}.localhost`);
    expect(outcome.left_out_secret_files).toEqual(['.env']);
    const page = await viaEdge(agent.edgePort!, `${P}.localhost`);
    expect(await page.text()).toBe('<h1>deployed by an agent</h1>');

    const listed = await client.callTool({ name: 'list_deployments', arguments: { project: P } });
    expect(JSON.parse((listed.content as { text: string }[])[0]!.text)[0].id).toBe(outcome.deployment.id);
    await client.close();
  }, 180_000);

  test('a read token is offered no tool that changes anything', async () => {
    const res = await agent.call('POST', '/v1/tokens', { name: 'mcp-reader', scope: 'read' });
    const { token } = (await res.json()) as { token: string };
    const client = await connect(token);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('list_projects');
    expect(names.filter((n) => n === 'deploy_directory' || n === 'rollback')).toEqual([]);
    await client.close();
  });
});
