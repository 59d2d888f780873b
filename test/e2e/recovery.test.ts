import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  removeDataDir,
  removeProjectObjects,
  startAgent,
  viaEdge,
  waitForStatus,
  type Agent,
} from '../helpers/agent.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { tgzOf } from '../helpers/archives.ts';
import { constantLoad } from '../helpers/fixtures.ts';

/** A project name of its own, so runs sharing one engine never touch each other's containers. */
const P = `recov-${crypto.randomUUID().slice(0, 6)}`;

const hasDocker = await requireDocker();
const dataDir = mkdtempSync(join(tmpdir(), 'slipway-recovery-'));
let edge: Agent;
let api: Agent;

/** A static site whose own Dockerfile makes the build or the start slow, on purpose. */
function slowSite(version: string, opts: { buildSeconds?: number; startSeconds?: number } = {}): Uint8Array {
  const dockerfile = [
    'FROM slipway-fixture/static:latest',
    `RUN sleep ${opts.buildSeconds ?? 0}`,
    'COPY index.html /www/index.html',
    `CMD ["sh", "-c", "sleep ${opts.startSeconds ?? 0}; trap 'exit 0' TERM; httpd -f -p $PORT -h /www & wait $!"]`,
  ].join('\n');
  return new Uint8Array(
    tgzOf([
      { name: 'Dockerfile', body: dockerfile },
      { name: 'index.html', body: version },
    ]),
  );
}

async function upload(body: Uint8Array): Promise<string> {
  const res = await api.call('POST', `/v1/projects/${P}/deployments`, body, { 'content-type': 'application/gzip' });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function untilLogged(id: string, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await (await api.call('GET', `/v1/projects/${P}/deployments/${id}/logs`)).text()).includes(text)) {
    if (Date.now() > deadline) throw new Error(`"${text}" never appeared in the log of ${id}`);
    await Bun.sleep(100);
  }
}

async function containersOf(deploymentId: string): Promise<string[]> {
  const all = await dockerClient().listContainers({
    all: true,
    filters: { label: [`slipway.deployment=${deploymentId}`] },
  });
  return all.map((c) => c.Id);
}

async function sleepingBuildContainers(): Promise<string[]> {
  const all = await dockerClient().listContainers({ all: true });
  return all.filter((c) => c.Command.includes('sleep 30')).map((c) => c.Id);
}

beforeAll(async () => {
  if (!hasDocker) return;
  edge = await startAgent({ dataDir, role: 'edge' });
  api = await startAgent({ dataDir, role: 'api' });
  expect((await api.call('POST', '/v1/projects', { name: P, deploy_timeout: 30 })).status).toBe(201);
});
afterAll(async () => {
  if (!hasDocker) return;
  await api.call('DELETE', `/v1/projects/${P}`).catch(() => {});
  await api.stop();
  await edge.stop();
  await removeProjectObjects([P]);
  removeDataDir(dataDir);
});

describe.skipIf(!hasDocker)('an edge in its own process', () => {
  test('serves the live release', async () => {
    const id = await upload(slowSite('v1'));
    expect((await waitForStatus(api, P, id, ['live', 'failed'])).status).toBe('live');
    expect(await (await viaEdge(edge.edgePort!, `${P}.localhost`)).text()).toBe('v1');
  });

  test('keeps serving while the API/worker restarts', async () => {
    const load = constantLoad(`http://127.0.0.1:${edge.edgePort}/`, `${P}.localhost`, 4);
    await Bun.sleep(300);
    expect(await api.stop('SIGTERM')).toBe(0);
    await Bun.sleep(500);
    api = await startAgent({ dataDir, role: 'api' });
    await Bun.sleep(500);
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThan(100);
  });

  test('cancel stops a build in progress and leaves no build container', async () => {
    const id = await upload(slowSite('never', { buildSeconds: 30 }));
    await untilLogged(id, 'sleep 30');
    await Bun.sleep(500);
    const res = await api.call('POST', `/v1/projects/${P}/deployments/${id}/cancel`);
    expect(res.status).toBe(200);
    const done = await waitForStatus(api, P, id, ['canceled', 'failed'], 15_000);
    expect(done).toMatchObject({ status: 'canceled', failure_reason: 'Canceled by request' });
    // Docker removes an aborted build's container asynchronously; give it the time the builder does.
    const deadline = Date.now() + 10_000;
    while ((await sleepingBuildContainers()).length > 0 && Date.now() < deadline) await Bun.sleep(250);
    expect(await sleepingBuildContainers()).toEqual([]);
  });

  test('kill -9 during a build: the app keeps serving and the build ends failed (interrupted)', async () => {
    const id = await upload(slowSite('never', { buildSeconds: 30 }));
    await untilLogged(id, 'sleep 30');
    const load = constantLoad(`http://127.0.0.1:${edge.edgePort}/`, `${P}.localhost`, 2);
    await api.stop('SIGKILL');
    await Bun.sleep(1000);
    api = await startAgent({ dataDir, role: 'api' });
    const done = await waitForStatus(api, P, id, ['failed', 'canceled', 'live'], 15_000);
    expect(done).toMatchObject({
      status: 'failed',
      failure_reason: 'interrupted: Slipway stopped while the deployment ran',
    });
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    const deadline = Date.now() + 15_000;
    while ((await sleepingBuildContainers()).length > 0 && Date.now() < deadline) await Bun.sleep(250);
    expect(await sleepingBuildContainers()).toEqual([]);
  });

  test('kill -9 during a deploy: the live app kept serving, the deploy ends failed, no orphans remain', async () => {
    const id = await upload(slowSite('v2', { startSeconds: 20 }));
    await waitForStatus(api, P, id, ['deploying'], 30_000);
    await untilLogged(id, 'Starting 1 instance');
    const load = constantLoad(`http://127.0.0.1:${edge.edgePort}/`, `${P}.localhost`, 2);
    await Bun.sleep(500);
    await api.stop('SIGKILL');
    await Bun.sleep(1000);
    api = await startAgent({ dataDir, role: 'api' });
    const done = await waitForStatus(api, P, id, ['failed', 'live'], 15_000);
    expect(done).toMatchObject({
      status: 'failed',
      failure_reason: 'interrupted: Slipway stopped while the deployment ran',
    });
    await Bun.sleep(500);
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(result.bodies).toEqual(['v1']);
    expect(await containersOf(id)).toEqual([]);
    const apps = await dockerClient().listContainers({
      all: true,
      filters: { label: [`slipway.project=${P}`, 'slipway.role=app'] },
    });
    expect(apps).toHaveLength(1);
  });
});
