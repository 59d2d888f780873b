import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { retireAgent, startAgent, viaEdge, waitForStatus, type Agent } from '../helpers/agent.ts';
import { requireDocker } from '../helpers/docker.ts';
import { constantLoad, fixtureTgz } from '../helpers/fixtures.ts';

/** A project name of its own, so runs sharing one engine never touch each other's containers. */
const P = `envapp-${crypto.randomUUID().slice(0, 6)}`;

const hasDocker = await requireDocker();
const HOST = `${P}.localhost`;
let agent: Agent;

beforeAll(async () => {
  if (!hasDocker) return;
  agent = await startAgent();
  expect((await agent.call('POST', '/v1/projects', { name: P, health_check_path: '/health' })).status).toBe(201);
  const res = await agent.call(
    'POST',
    `/v1/projects/${P}/deployments`,
    new Uint8Array(fixtureTgz('node-app', { VERSION: 'v1' })),
    { 'content-type': 'application/gzip' },
  );
  expect((await waitForStatus(agent, P, ((await res.json()) as { id: string }).id, ['live', 'failed'])).status).toBe(
    'live',
  );
});
afterAll(async () => {
  if (hasDocker) await retireAgent(agent, [P]);
});

async function appEnv(): Promise<Record<string, string>> {
  return (await (await viaEdge(agent.edgePort!, HOST, '/env')).json()) as Record<string, string>;
}

async function patchEnv(vars: Record<string, string | null>): Promise<string> {
  const res = await agent.call('PATCH', `/v1/projects/${P}/env`, { vars });
  expect(res.status).toBe(200);
  const { deployment } = (await res.json()) as { deployment: { id: string; trigger: string } };
  expect(deployment.trigger).toBe('env');
  expect((await waitForStatus(agent, P, deployment.id, ['live', 'failed'])).status).toBe('live');
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
    const res = await agent.call('PATCH', `/v1/projects/${P}/env?restart=false`, { vars: { LATER: 'yes' } });
    expect(((await res.json()) as { deployment: unknown }).deployment).toBeNull();
    expect((await appEnv()).LATER).toBeUndefined();
  });

  test('a rollback restores the env that release ran with', async () => {
    const res = await agent.call('POST', `/v1/projects/${P}/rollback`, {});
    const { id } = (await res.json()) as { id: string };
    expect((await waitForStatus(agent, P, id, ['live', 'failed'])).status).toBe('live');
    const env = await appEnv();
    expect(env.GREETING).toBe('hello $USER');
    const listed = (await (await agent.call('GET', `/v1/projects/${P}/env?reveal=true`)).json()) as {
      data: { key: string; value: string }[];
    };
    expect(listed.data.map((v) => v.key)).toEqual(['API_TOKEN', 'GREETING']);
  });
});
