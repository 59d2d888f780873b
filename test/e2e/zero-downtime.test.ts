import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { gunzipSync } from 'node:zlib';
import { retireAgent, startAgent, viaEdge, waitForStatus, type Agent } from '../helpers/agent.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { constantLoad, fixtureTgz } from '../helpers/fixtures.ts';

/** A project name of its own, so runs sharing one engine never touch each other's containers. */
const P = `app-${crypto.randomUUID().slice(0, 6)}`;

const hasDocker = await requireDocker();
const HOST = `${P}.localhost`;
let agent: Agent;

beforeAll(async () => {
  if (!hasDocker) return;
  agent = await startAgent({ env: { SLIPWAY_DRAIN_TIMEOUT: '5' } });
  expect(
    (await agent.call('POST', '/v1/projects', { name: P, instances: 2, health_check_path: '/health' })).status,
  ).toBe(201);
});
afterAll(async () => {
  if (hasDocker) await retireAgent(agent, [P]);
});

async function deploy(
  files: Record<string, string>,
): Promise<{ id: string; status: string; failure_reason: string | null }> {
  const res = await agent.call('POST', `/v1/projects/${P}/deployments`, new Uint8Array(fixtureTgz('node-app', files)), {
    'content-type': 'application/gzip',
  });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  return waitForStatus(agent, P, id, ['live', 'failed', 'canceled']) as never;
}

const get = (path = '/', init?: RequestInit) => viaEdge(agent.edgePort!, HOST, path, init);

describe.skipIf(!hasDocker)('a Node app behind the edge', () => {
  test('goes live with two instances and is served round robin', async () => {
    const dep = await deploy({ VERSION: 'v1' });
    expect(dep.status).toBe('live');
    expect(dep).toMatchObject({ stack: 'node' });
    expect(await (await get('/')).text()).toBe('v1');
    const hosts = new Set<string>();
    for (let i = 0; i < 8; i++) hosts.add(await (await get('/hostname')).text());
    expect(hosts.size).toBe(2);
  });

  test('passes Server-Sent Events through event by event', async () => {
    const res = await get('/sse');
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const text = await res.text();
    expect(text).toBe('id: 1\ndata: tick 1\n\nid: 2\ndata: tick 2\n\nid: 3\ndata: tick 3\n\n');
  });

  test('delivers a gzip-encoded response byte for byte', async () => {
    const [c] = await dockerClient().listContainers({
      filters: { label: [`slipway.project=${P}`, 'slipway.role=app'] },
    });
    const direct = await fetch(`http://127.0.0.1:${c!.Ports.find((p) => p.IP === '127.0.0.1')!.PublicPort}/gzip`, {
      decompress: false,
    } as RequestInit);
    const viaProxy = await get('/gzip', { decompress: false } as RequestInit);
    const a = new Uint8Array(await direct.arrayBuffer());
    const b = new Uint8Array(await viaProxy.arrayBuffer());
    expect(viaProxy.headers.get('content-encoding')).toBe('gzip');
    expect(viaProxy.headers.get('content-length')).toBe(String(b.length));
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    expect(gunzipSync(b).toString()).toBe('compressed hello '.repeat(500));
  });

  test('proxies a WebSocket echo', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${agent.edgePort}/ws`, { headers: { host: HOST } } as never);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.onopen = () => ws.send('ping through the edge');
      ws.onmessage = (e) => resolve(String(e.data));
      ws.onerror = () => reject(new Error('websocket error'));
      setTimeout(() => reject(new Error('no websocket reply')), 5000);
    });
    ws.close();
    expect(reply).toBe('echo: ping through the edge');
  });

  test('serves every request during 5 redeploys and a rollback, switching content', async () => {
    const load = constantLoad(`http://127.0.0.1:${agent.edgePort}/`, HOST, 4);
    for (let v = 2; v <= 6; v++) expect((await deploy({ VERSION: `v${v}` })).status).toBe('live');
    const rollback = await agent.call('POST', `/v1/projects/${P}/rollback`, {});
    expect(rollback.status).toBe(202);
    const rolled = (await rollback.json()) as { id: string; rollback_of: string; trigger: string };
    expect(rolled.trigger).toBe('rollback');
    expect((await waitForStatus(agent, P, rolled.id, ['live', 'failed'])).status).toBe('live');
    await Bun.sleep(300);
    const result = await load.stop();
    console.log(`load during 6 swaps: ${result.ok} ok, ${result.failures.length} failed`);
    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThan(50);
    expect(result.bodies.filter((b, i) => result.bodies.indexOf(b) === i)).toEqual(
      ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v5'].filter((b, i, all) => all.indexOf(b) === i),
    );
    expect(result.bodies.at(-1)).toBe('v5');
    expect(await (await get('/')).text()).toBe('v5');
  });

  test('keeps the images of the last 5 releases for rollbacks and prunes older ones', async () => {
    // Releases #2..#6 went live, then the rollback (#7), which reuses #5's image: the newest five
    // releases are #3..#7. Pruning runs once each old release has drained, in the background, so
    // the tags are read until they settle.
    const list = (await (await agent.call('GET', `/v1/projects/${P}/deployments`)).json()) as {
      data: { number: number; status: string; image: { tag: string } | null }[];
    };
    const released = list.data.filter((d) => d.status === 'live' || d.status === 'replaced');
    const newest = released.sort((a, b) => b.number - a.number).slice(0, 5);
    const kept = [...new Set(newest.map((d) => d.image!.tag))].sort();
    expect(newest.map((d) => d.number)).toEqual([7, 6, 5, 4, 3]);
    const deadline = Date.now() + 10_000;
    let tags: string[] = [];
    while (Date.now() < deadline) {
      const images = await dockerClient().listImages({ filters: { reference: [`slipway/${P}`] } });
      tags = images
        .flatMap((i) => i.RepoTags ?? [])
        .filter((t) => t !== '<none>:<none>')
        .sort();
      if (tags.join() === kept.join()) break;
      await Bun.sleep(200);
    }
    // Tags are `slipway/<project>:<number>-<10 random characters>`.
    for (const t of tags) expect(t).toMatch(new RegExp(`^slipway/${P}:\\d+-[0-9a-hjkmnp-tv-z]{10}$`));
    expect(tags).toEqual(kept);
    expect(kept).toHaveLength(4);
  });

  test('a release that never turns healthy fails with a reason and the live one keeps serving', async () => {
    await agent.call('PATCH', `/v1/projects/${P}`, { deploy_timeout: 5 });
    const dep = await deploy({ VERSION: 'sick', MODE: 'unhealthy' });
    expect(dep.status).toBe('failed');
    expect(dep.failure_reason).toStartWith(
      'The app did not answer GET /health with 2xx or 3xx within 5 s (last: HTTP 500)',
    );
    expect(await (await get('/')).text()).toBe('v5');
  });

  test('a release whose container exits at start fails with its exit code and last log lines', async () => {
    const dep = (await deploy({ VERSION: 'broken', MODE: 'exit' })) as {
      id: string;
      status: string;
      failure_reason: string;
    };
    expect(dep.status).toBe('failed');
    expect(dep.failure_reason).toBe('The container exited with code 3 before it turned healthy');
    const log = await (await agent.call('GET', `/v1/projects/${P}/deployments/${dep.id}/logs`)).text();
    expect(log).toContain('fixture: exiting on purpose');
    expect(await (await get('/')).text()).toBe('v5');
    const containers = await dockerClient().listContainers({
      all: true,
      filters: { label: [`slipway.project=${P}`, `slipway.deployment=${dep.id}`] },
    });
    expect(containers).toEqual([]);
  });

  test('scale, restart, stop and start act on the live release', async () => {
    const scaled = await agent.call('POST', `/v1/projects/${P}/scale`, { instances: 3 });
    expect(scaled.status).toBe(200);
    expect(((await scaled.json()) as { instances: number }).instances).toBe(3);
    const running = await dockerClient().listContainers({
      filters: { label: [`slipway.project=${P}`, 'slipway.role=app'] },
    });
    expect(running).toHaveLength(3);

    const load = constantLoad(`http://127.0.0.1:${agent.edgePort}/`, HOST, 2);
    expect((await agent.call('POST', `/v1/projects/${P}/restart`)).status).toBe(200);
    expect((await load.stop()).failures).toEqual([]);

    const stopped = await agent.call('POST', `/v1/projects/${P}/stop`);
    expect(((await stopped.json()) as { desired_state: string }).desired_state).toBe('stopped');
    await Bun.sleep(300);
    expect((await get('/')).status).toBe(503);
    expect((await agent.call('POST', `/v1/projects/${P}/start`)).status).toBe(200);
    expect(await (await get('/')).text()).toBe('v5');
  });
});
