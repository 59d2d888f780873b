import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { retireAgent, startAgent, viaEdge, waitForStatus, type Agent } from '../helpers/agent.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { tgzOf, zipOf } from '../helpers/archives.ts';
import { LABEL_KEYS } from '../../src/runtime/labels.ts';

/** A project name of its own, so runs sharing one engine never touch each other's containers. */
const P = `site-${crypto.randomUUID().slice(0, 6)}`;

const hasDocker = await requireDocker();
let agent: Agent;
/** The tag of the first release, which the tests after the first one inspect. */
let firstTag = '';

/** Release tags are `slipway/<project>:<number>-<10 random base32 characters>`. */
const releaseTag = (n: number) => new RegExp(`^slipway/${P}:${n}-[0-9a-hjkmnp-tv-z]{10}$`);

beforeAll(async () => {
  if (!hasDocker) return;
  agent = await startAgent();
  expect((await agent.call('POST', '/v1/projects', { name: P })).status).toBe(201);
});
afterAll(async () => {
  if (hasDocker) await retireAgent(agent, [P]);
});

async function deploy(body: Uint8Array, type: string): Promise<{ id: string; number: number }> {
  const res = await agent.call('POST', `/v1/projects/${P}/deployments`, body, { 'content-type': type });
  expect(res.status).toBe(202);
  return (await res.json()) as { id: string; number: number };
}

describe.skipIf(!hasDocker)('deploying a static site', () => {
  test('a tar.gz upload is built, health-checked and served through the edge', async () => {
    const dep = await deploy(tgzOf([{ name: 'index.html', body: '<h1>version one</h1>' }]), 'application/gzip');
    const done = await waitForStatus(agent, P, dep.id, ['live', 'failed']);
    expect(done.status).toBe('live');
    expect(done).toMatchObject({ stack: 'static' });
    firstTag = (done.image as { tag: string }).tag;
    expect(firstTag).toMatch(releaseTag(1));
    const res = await viaEdge(agent.edgePort!, `${P}.localhost`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<h1>version one</h1>');
  });

  test("the image carries the agent's slipway labels, its tag the project, its container the deployment's", async () => {
    const image = await dockerClient().getImage(firstTag).inspect();
    expect(image.RepoTags).toEqual([firstTag]);
    const ours = (labels: Record<string, string> | undefined) =>
      Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => LABEL_KEYS.has(k)));
    expect(ours(image.Config.Labels)).toEqual({
      'slipway.managed': 'true',
      'slipway.agent': expect.stringMatching(/^agt_/),
    });
    const [container] = await dockerClient().listContainers({
      filters: { label: [`slipway.project=${P}`, 'slipway.role=app'] },
    });
    expect(container!.ImageID).toBe(image.Id);
    expect(ours(container!.Labels)).toMatchObject({
      'slipway.managed': 'true',
      'slipway.project': P,
      'slipway.number': '1',
      'slipway.deployment': expect.stringMatching(/^dep_/),
      'slipway.role': 'app',
    });
  });

  test('a zip upload of a second version replaces the first', async () => {
    const dep = await deploy(await zipOf([{ name: 'index.html', body: '<h1>version two</h1>' }]), 'application/zip');
    expect((await waitForStatus(agent, P, dep.id, ['live', 'failed'])).status).toBe('live');
    expect(await (await viaEdge(agent.edgePort!, `${P}.localhost`)).text()).toBe('<h1>version two</h1>');
    const list = (await (await agent.call('GET', `/v1/projects/${P}/deployments`)).json()) as {
      data: { number: number; status: string }[];
    };
    expect(list.data.map((d) => [d.number, d.status])).toEqual([
      [2, 'live'],
      [1, 'replaced'],
    ]);
  });

  test('the old instance is gone after the swap', async () => {
    const deadline = Date.now() + 15_000;
    let containers: unknown[] = [];
    while (Date.now() < deadline) {
      containers = await dockerClient().listContainers({
        all: true,
        filters: { label: [`slipway.project=${P}`, 'slipway.role=app'] },
      });
      if (containers.length === 1) break;
      await Bun.sleep(200);
    }
    expect(containers).toHaveLength(1);
  });

  test('the build and deploy log can be followed live to its end', async () => {
    const dep = await deploy(tgzOf([{ name: 'index.html', body: '<h1>version three</h1>' }]), 'application/gzip');
    const res = await agent.call('GET', `/v1/projects/${P}/deployments/${dep.id}/logs`, undefined, {
      accept: 'text/event-stream',
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const text = await res.text(); // ends when the deployment does
    const events = text.split('\n\n').filter((e) => e.startsWith('id: ') || e.startsWith('event: '));
    expect(events[0]).toBe(`id: 1\ndata: Deployment #${dep.number} queued (upload)`);
    expect(text).toContain('data: Detected a static app; generated Dockerfile:');
    const tagged = /data: Successfully tagged (\S+)/.exec(text)?.[1] ?? '';
    expect(tagged).toMatch(releaseTag(3));
    const detail = (await (await agent.call('GET', `/v1/projects/${P}/deployments/${dep.id}`)).json()) as {
      image: { tag: string };
    };
    expect(detail.image.tag).toBe(tagged);
    expect(text).toContain(`data: Deployment #${dep.number} is live`);
    expect(events.at(-1)).toBe('event: end\ndata: {"status":"live","failure_reason":null}');
    const ids = events.filter((e) => e.startsWith('id: ')).map((e) => Number(e.split('\n')[0]!.slice(4)));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
  });

  test('an unknown host gets 404 from the edge', async () => {
    const res = await viaEdge(agent.edgePort!, 'nothing.localhost');
    expect(res.status).toBe(404);
  });

  test('the app container runs with the safe defaults', async () => {
    const [c] = await dockerClient().listContainers({
      filters: { label: [`slipway.project=${P}`, 'slipway.role=app'] },
    });
    const info = await dockerClient().getContainer(c!.Id).inspect();
    expect(info.HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.PidsLimit).toBe(512);
    expect(info.HostConfig.Memory).toBe(512 * 1024 * 1024);
    expect(info.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
    expect(info.HostConfig.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
    expect(info.HostConfig.NetworkMode).toBe(`slipway-${P}`);
    const bindings = Object.values(info.HostConfig.PortBindings ?? {}).flat() as { HostIp: string }[];
    expect(bindings.map((b) => b.HostIp)).toEqual(['127.0.0.1']);
    expect(info.HostConfig.Binds ?? []).toEqual([]);
  });

  test('a multi-stage build keeps only its latest build stage, which the next deploy builds from', async () => {
    const dockerfile = [
      'FROM slipway-fixture/static:latest AS build',
      `RUN echo deps-${P} > /deps`,
      'COPY index.html /src/',
      'RUN cat /deps /src/index.html > /out.html',
      'FROM slipway-fixture/static:latest',
      'COPY --from=build /out.html /www/index.html',
      '',
    ].join('\n');
    const staged = async (html: string) => {
      const files = [
        { name: 'Dockerfile', body: dockerfile },
        { name: 'index.html', body: html },
      ];
      const dep = await deploy(tgzOf(files), 'application/gzip');
      expect((await waitForStatus(agent, P, dep.id, ['live', 'failed'])).status).toBe('live');
      return dep.id;
    };
    await staged('one');
    const second = await staged('two');
    const log = (await (await agent.call('GET', `/v1/projects/${P}/deployments/${second}/logs`)).text()).split('\n');
    const deps = log.findIndex((l) => l.includes(`: RUN echo deps-${P}`));
    expect(log.slice(deps + 1, deps + 3).join('\n')).toContain('Using cache');
    // The build cache is collected while the release starts, and may still be at it when it is live.
    const dangling = () =>
      dockerClient().listImages({ filters: { dangling: ['true'], label: [`slipway.project=${P}`] } });
    const deadline = Date.now() + 5000;
    while ((await dangling()).length > 1 && Date.now() < deadline) await Bun.sleep(50);
    expect(await dangling()).toHaveLength(1);
    expect(await (await viaEdge(agent.edgePort!, `${P}.localhost`)).text()).toBe(`deps-${P}\ntwo`);
  });

  test('deleting the project removes its containers, images and route', async () => {
    expect((await agent.call('DELETE', `/v1/projects/${P}`)).status).toBe(204);
    const docker = dockerClient();
    expect(await docker.listContainers({ all: true, filters: { label: [`slipway.project=${P}`] } })).toEqual([]);
    expect(await docker.listImages({ filters: { label: [`slipway.project=${P}`] } })).toEqual([]);
    expect(await docker.listImages({ filters: { reference: [`slipway/${P}`] } })).toEqual([]);
    await Bun.sleep(300);
    expect((await viaEdge(agent.edgePort!, `${P}.localhost`)).status).toBe(404);
    expect((await agent.call('GET', `/v1/projects/${P}`)).status).toBe(404);
  });
});
