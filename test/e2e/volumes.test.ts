import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { extract } from 'tar-stream';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { retireAgent, startAgent, viaEdge, waitForStatus, type Agent } from '../helpers/agent.ts';
import { tarOf } from '../helpers/archives.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { fixtureTgz } from '../helpers/fixtures.ts';

/** Project names of their own, so runs sharing one engine never touch each other's volumes. */
const suffix = crypto.randomUUID().slice(0, 6);
const A = `vol-a-${suffix}`;
const B = `vol-b-${suffix}`;
const DATA = [{ name: 'data', mount_path: '/data' }];

const hasDocker = await requireDocker();
let agent: Agent;

async function deploy(project: string, version: string, extra: Record<string, string> = {}, want = 'live') {
  const source = fixtureTgz('counter-app', { VERSION: version, ...extra });
  const res = await agent.call('POST', `/v1/projects/${project}/deployments`, source, {
    'content-type': 'application/gzip',
  });
  expect(res.status).toBe(202);
  const id = ((await res.json()) as { id: string }).id;
  expect((await waitForStatus(agent, project, id, ['live', 'failed'])).status).toBe(want);
  return id;
}

const hit = async (project: string, path = '/count') =>
  (await viaEdge(agent.edgePort!, `${project}.localhost`, path)).text();

async function volumes(project: string) {
  const res = await agent.call('GET', `/v1/projects/${project}/volumes`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: Record<string, unknown>[] }).data;
}

async function tarEntries(bytes: Uint8Array): Promise<Map<string, { body: string; uid: number }>> {
  const entries = new Map<string, { body: string; uid: number }>();
  const ex = extract();
  Readable.from([Buffer.from(bytes)]).pipe(ex);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    entries.set(e.header.name, { body: Buffer.concat(chunks).toString(), uid: e.header.uid ?? -1 });
  }
  return entries;
}

const appContainers = async (project: string) =>
  (await dockerClient().listContainers({ filters: { label: [`slipway.project=${project}`, 'slipway.role=app'] } })).map(
    (c) => c.Id,
  );

beforeAll(async () => {
  if (!hasDocker) return;
  agent = await startAgent();
  for (const name of [A, B]) {
    const res = await agent.call('POST', '/v1/projects', { name, health_check_path: '/health', volumes: DATA });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  if (!hasDocker) return;
  for (const p of [A, B]) await agent.call('DELETE', `/v1/projects/${p}?confirm=${p}`);
  await retireAgent(agent, [A, B]);
});

describe.skipIf(!hasDocker)('persistent volumes', () => {
  test('a hit counter on a volume survives three redeploys and a rollback', async () => {
    await deploy(A, 'v1');
    expect(await hit(A)).toBe('v1 1');
    expect(await hit(A)).toBe('v1 2');
    for (const [i, version] of ['v2', 'v3', 'v4'].entries()) {
      await deploy(A, version);
      expect(await hit(A)).toBe(`${version} ${3 + i}`);
    }
    const res = await agent.call('POST', `/v1/projects/${A}/rollback`);
    expect(res.status).toBe(202);
    const rollback = ((await res.json()) as { id: string }).id;
    expect((await waitForStatus(agent, A, rollback, ['live', 'failed'])).status).toBe('live');
    expect(await hit(A)).toBe('v3 6');
  });

  test('a release that fails to start hands the volume back to the running one', async () => {
    const before = await appContainers(A);
    await deploy(A, 'broken', { MODE: 'exit' }, 'failed');
    expect(await appContainers(A)).toEqual(before);
    expect(await hit(A)).toBe('v3 7');
  });

  test("another project's volume of the same name is its own, and starts empty", async () => {
    await deploy(B, 'b1');
    expect(await hit(B)).toBe('b1 1');
    expect(await hit(A, '/peek')).toBe('v3 7');
    const [a] = await volumes(A);
    const [b] = await volumes(B);
    expect(a!.docker_volume).not.toBe(b!.docker_volume);
    const info = await dockerClient()
      .getVolume(a!.docker_volume as string)
      .inspect();
    expect(info.Labels).toMatchObject({ 'slipway.managed': 'true', 'slipway.project': A, 'slipway.volume': 'data' });
    expect(info.Labels['slipway.agent']).toStartWith('agt_');
  });

  test('more than one instance needs volumes_shared, and shared instances write the same files', async () => {
    const refused = await agent.call('POST', `/v1/projects/${B}/scale`, { instances: 2 });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toStartWith(
      `Cannot run 2 instances of "${B}": its volumes are mounted by one instance at a time`,
    );
    expect((await agent.call('PATCH', `/v1/projects/${B}`, { volumes_shared: true })).status).toBe(200);
    expect((await agent.call('POST', `/v1/projects/${B}/scale`, { instances: 2 })).status).toBe(200);
    const counts = [];
    for (let i = 0; i < 6; i++) counts.push(Number((await hit(B)).split(' ')[1]));
    expect(counts).toEqual([2, 3, 4, 5, 6, 7]);
  });

  test('the archive downloads as a tar and a restore brings the content back', async () => {
    const res = await agent.call('GET', `/v1/projects/${A}/volumes/data/archive`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-tar');
    const saved = new Uint8Array(await res.arrayBuffer());
    expect((await tarEntries(saved)).get('./count')?.body).toBe('7');
    expect(await hit(A)).toBe('v3 8');

    const running = await appContainers(A);
    const restored = await agent.call('PUT', `/v1/projects/${A}/volumes/data/archive`, saved, {
      'content-type': 'application/x-tar',
    });
    expect(restored.status).toBe(200);
    const view = (await restored.json()) as { docker_volume: string; mount_path: string };
    expect(view.mount_path).toBe('/data');
    expect(await hit(A)).toBe('v3 8');
    // The app was stopped for the swap and started again.
    expect(await appContainers(A)).not.toEqual(running);

    // Any tar.gz will do; its owners are kept.
    const handmade = gzipSync(tarOf([{ name: 'count', body: '41' }]));
    const put = await agent.call('PUT', `/v1/projects/${A}/volumes/data/archive`, new Uint8Array(handmade), {
      'content-type': 'application/gzip',
    });
    expect(put.status).toBe(200);
    const again = await agent.call('GET', `/v1/projects/${A}/volumes/data/archive`);
    expect((await tarEntries(new Uint8Array(await again.arrayBuffer()))).get('./count')).toEqual({
      body: '41',
      uid: 1000,
    });
    expect(await hit(A)).toBe('v3 42');
  });

  test('a hostile archive is refused and changes nothing', async () => {
    const before = (await volumes(A))[0]!.docker_volume;
    const hostile = tarOf([
      { name: 'count', body: '1000' },
      { name: '../escape', body: 'x' },
    ]);
    const res = await agent.call('PUT', `/v1/projects/${A}/volumes/data/archive`, new Uint8Array(hostile), {
      'content-type': 'application/x-tar',
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'Rejected upload: entry "../escape" has ".." in its path',
    );
    expect((await volumes(A))[0]!.docker_volume).toBe(before);
    expect(await hit(A, '/peek')).toBe('v3 42');
  });

  test('the project view shows what the volumes hold', async () => {
    const deadline = Date.now() + 10_000;
    let size: number | null = null;
    while (size === null && Date.now() < deadline) {
      size = ((await (await agent.call('GET', `/v1/projects/${A}`)).json()) as { volumes_size_bytes: number | null })
        .volumes_size_bytes;
      if (size === null) await Bun.sleep(200);
    }
    expect(size).toBeGreaterThan(0);
    expect((await volumes(A))[0]).toMatchObject({ name: 'data', mount_path: '/data', created: true });
  });

  test('a volume taken out of the setting keeps its data until deleted with confirmation', async () => {
    expect((await agent.call('PATCH', `/v1/projects/${A}`, { volumes: [] })).status).toBe(200);
    const [kept] = await volumes(A);
    expect(kept).toMatchObject({ name: 'data', mount_path: null, created: true });
    expect((await agent.call('DELETE', `/v1/projects/${A}/volumes/data`)).status).toBe(422);
    // The live instance, started before the change, still mounts it.
    expect((await agent.call('DELETE', `/v1/projects/${A}/volumes/data?confirm=data`)).status).toBe(409);
    expect((await agent.call('PATCH', `/v1/projects/${A}`, { volumes: DATA })).status).toBe(200);
  });

  test('deleting a project with volumes needs confirmation and removes them', async () => {
    const [b] = await volumes(B);
    const res = await agent.call('DELETE', `/v1/projects/${B}`);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      `Cannot delete "${B}": it has volumes; repeat the project name as ?confirm=${B} to delete them too`,
    );
    expect((await agent.call('DELETE', `/v1/projects/${B}?confirm=${B}`)).status).toBe(204);
    expect(
      await dockerClient()
        .getVolume(b!.docker_volume as string)
        .inspect()
        .catch((e) => e.statusCode),
    ).toBe(404);
  });
});
