import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { retireAgent, startAgent, viaEdge, waitForStatus, type Agent } from '../helpers/agent.ts';
import { requireDocker } from '../helpers/docker.ts';
import { constantLoad, fixtureTgz } from '../helpers/fixtures.ts';

const hasDocker = await requireDocker();
const HOST = 'envapp.localhost';
let agent: Agent;

beforeAll(async () => {
  if (!hasDocker) return;
  agent = await startAgent();
  expect((await agent.call('POST', '/v1/projects', { name: 'envapp', health_check_path: '/health' })).status).toBe(201);
  const res = await agent.call('POST', '/v1/projects/envapp/deployments', new Uint8Array(fixtureTgz('node-app', { VERSION: 'v1' })), { 'content-type': 'application/gzip' });
  expect((await waitForStatus(agent, 'envapp', ((await res.json()) as { id: string }).id, ['live', 'failed'])).status).toBe('live');
});
afterAll(async () => {
  if (hasDocker) await retireAgent(agent, ['envapp']);
});

async function appEnv(): Promise<Record<string, string>> {
  return (await (await viaEdge(agent.edgePort!, HOST, '/env')).json()) as Record<string, string>;
}

async function patchEnv(vars: Record<string, string | null>): Promise<string> {
  const res = await agent.call('PATCH', '/v1/projects/envapp/env', { vars });
  expect(res.status).toBe(200);
  const { deployment } = (await res.json()) as { deployment: { id: string; trigger: string } };
  expect(deployment.trigger).toBe('env');
  expect((await waitForStatus(agent, 'envapp', deployment.id, ['live', 'failed'])).status).toBe('live');
  return deployment.id;
}

describe.skipIf(!hasDocker)('env vars of a live app', () => {
  test('setting env rolls out a release the app reads, without a failed request', async () => {
    const load = constantLoad(`http://127.0.0.1:${agent.edgePort}/`, HOST, 2);
    await patchEnv({ GREETING: 'hello $USER', API_TOKEN: 'tok_9f8e7d6c5b' });
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    const env = await appEnv();
    expect(env.GREETING).toBe('hello $USER');
    expect(env.API_TOKEN).toBe('tok_9f8e7d6c5b');
    expect(env.PORT).toBe('8080');
  });

  test('unsetting removes it from the next release', async () => {
    await patchEnv({ GREETING: null });
    const env = await appEnv();
    expect(env.GREETING).toBeUndefined();
    expect(env.API_TOKEN).toBe('tok_9f8e7d6c5b');
  });

  test('?restart=false stores without rolling out', async () => {
    const res = await agent.call('PATCH', '/v1/projects/envapp/env?restart=false', { vars: { LATER: 'yes' } });
    expect(((await res.json()) as { deployment: unknown }).deployment).toBeNull();
    expect((await appEnv()).LATER).toBeUndefined();
  });

  test('a rollback restores the env that release ran with', async () => {
    const res = await agent.call('POST', '/v1/projects/envapp/rollback', {});
    const { id } = (await res.json()) as { id: string };
    expect((await waitForStatus(agent, 'envapp', id, ['live', 'failed'])).status).toBe('live');
    const env = await appEnv();
    expect(env.GREETING).toBe('hello $USER');
    const listed = (await (await agent.call('GET', '/v1/projects/envapp/env?reveal=true')).json()) as { data: { key: string; value: string }[] };
    expect(listed.data.map((v) => v.key)).toEqual(['API_TOKEN', 'GREETING']);
  });
});
