/**
 * A release lets go of its project once traffic has moved: the project's next deploy does not wait
 * for the old instances to drain, and nothing cuts the connections they are still serving (neither
 * that next deploy nor the reconciler, which runs every 2 s here). The drain timeout is long, so
 * only a drain that runs in the background lets the third deploy finish while the first release
 * still holds a WebSocket.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { retireAgent, startAgent, waitForStatus, type Agent } from '../helpers/agent.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { fixtureTgz } from '../helpers/fixtures.ts';

const P = `drain-${crypto.randomUUID().slice(0, 6)}`;
const DRAIN_SECONDS = 120;
const hasDocker = await requireDocker();
let agent: Agent;

beforeAll(async () => {
  if (!hasDocker) return;
  agent = await startAgent({ env: { SLIPWAY_DRAIN_TIMEOUT: String(DRAIN_SECONDS) } });
  expect((await agent.call('POST', '/v1/projects', { name: P, health_check_path: '/health' })).status).toBe(201);
});
afterAll(async () => {
  if (hasDocker) await retireAgent(agent, [P]);
});

async function deploy(version: string): Promise<{ id: string; status: string }> {
  const body = new Uint8Array(fixtureTgz('node-app', { VERSION: version }));
  const res = await agent.call('POST', `/v1/projects/${P}/deployments`, body, { 'content-type': 'application/gzip' });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  return waitForStatus(agent, P, id, ['live', 'failed', 'canceled']) as never;
}

/** The project's app containers that run `deploymentId`. */
async function containersOf(deploymentId: string): Promise<string[]> {
  const found = await dockerClient().listContainers({
    all: true,
    filters: { label: [`slipway.project=${P}`, `slipway.deployment=${deploymentId}`] },
  });
  return found.map((c) => c.Id);
}

/** The kill, stop and die events of container `id` since `sinceMs`. */
async function stopsOf(id: string, sinceMs: number): Promise<string[]> {
  const stream = await dockerClient().getEvents({
    since: Math.floor(sinceMs / 1000),
    until: Math.ceil(Date.now() / 1000),
    filters: { container: [id], event: ['kill', 'stop', 'die'] },
  });
  const text = await new Response(stream as unknown as ReadableStream).text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { Action: string }).Action);
}

/** An open WebSocket through the edge, and a way to check it still echoes. */
async function openSocket(): Promise<{ echo(text: string): Promise<string>; close(): void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${agent.edgePort}/ws`, { headers: { host: `${P}.localhost` } } as never);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('websocket error'));
  });
  return {
    echo: (text) =>
      new Promise<string>((resolve, reject) => {
        ws.onmessage = (e) => resolve(String(e.data));
        ws.onclose = () => reject(new Error('the websocket was closed'));
        setTimeout(() => reject(new Error('no websocket reply')), 5000);
        ws.send(text);
      }),
    close: () => ws.close(),
  };
}

describe.skipIf(!hasDocker)('old instances drain in the background', () => {
  test('the next deploys go live while the old release still serves a WebSocket, which is not cut', async () => {
    const first = await deploy('v1');
    expect(first.status).toBe('live');
    const socket = await openSocket();
    expect(await socket.echo('before')).toBe('echo: before');

    const started = Date.now();
    expect((await deploy('v2')).status).toBe('live');
    // Held back by the first release's drain, this one would wait the whole drain timeout.
    const third = await deploy('v3');
    expect(third.status).toBe('live');
    expect(Date.now() - started).toBeLessThan((DRAIN_SECONDS / 2) * 1000);

    // Two reconciler passes and a rollout later, the first release still serves its connection,
    // and nothing has even begun to stop it (a stop's grace period would hide that a while).
    const [old] = await containersOf(first.id);
    await Bun.sleep(4500);
    expect(await socket.echo('after')).toBe('echo: after');
    expect(await stopsOf(old!, started)).toEqual([]);

    socket.close();
    const deadline = Date.now() + 30_000;
    while ((await containersOf(first.id)).length > 0 && Date.now() < deadline) await Bun.sleep(200);
    expect(await containersOf(first.id)).toEqual([]);
    expect(await containersOf(third.id)).toHaveLength(1);
  }, 240_000);
});
