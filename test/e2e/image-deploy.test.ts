import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { retireAgent, startAgent, viaEdge, waitForStatus, type Agent } from '../helpers/agent.ts';
import { cleanupByLabel, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';
import { tgzOf } from '../helpers/archives.ts';
import { buildTestImage, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { LABEL_KEYS } from '../../src/runtime/labels.ts';

/** Projects of their own, so runs sharing one engine never touch each other's containers. */
const P = `img-${crypto.randomUUID().slice(0, 6)}`;
const OTHER = `img-other-${crypto.randomUUID().slice(0, 6)}`;
const STATIC = 'slipway-fixture/static:latest';

const hasDocker = await requireDocker();
const docker = dockerClient();
const labels = testLabel();
let agent: Agent;
let registry: TestRegistry;
let ref: (repository: string) => string;

/** A busybox httpd image serving `body` at / on $PORT (the fixture's own CMD), plus Dockerfile lines. */
const site = (body: string, extra = '') => ({
  Dockerfile: `FROM ${STATIC}\nCOPY index.html /www/index.html\n${extra}`,
  'index.html': body,
});

beforeAll(async () => {
  if (!hasDocker) return;
  registry = await startRegistry();
  ref = (repository) => `${registry.host}/${repository}`;
  const images: [string, Record<string, string>][] = [
    ['team/app:1.4', site('<h1>image one</h1>')],
    ['team/app:1.5', site('<h1>image two</h1>')],
    // Listens on 9999 whatever PORT says: the health check on PORT never answers.
    ['team/wrong-port:1', site('x', 'CMD ["httpd", "-f", "-p", "9999", "-h", "/www"]')],
    ['team/forged:1', site('x', 'LABEL slipway.role=database')],
    ['team/onbuild:1', site('x', 'ONBUILD RUN echo triggered')],
  ];
  for (const [repository, files] of images) {
    const local = `slipway-test-image/${labels['slipway.test']}:${repository.replace(/[/:]/g, '-')}`;
    await buildTestImage(docker, local, files, labels);
    await registry.push(docker, local, repository);
  }
  agent = await startAgent({ env: { SLIPWAY_DRAIN_TIMEOUT: '1' } });
  for (const name of [P, OTHER]) expect((await agent.call('POST', '/v1/projects', { name })).status).toBe(201);
  expect((await agent.call('PATCH', `/v1/projects/${P}`, { deploy_timeout: 5 })).status).toBe(200);
}, 120_000);

afterAll(async () => {
  if (!hasDocker) return;
  await retireAgent(agent, [P, OTHER]);
  await registry.stop();
  await cleanupByLabel(docker, labels['slipway.test']);
});

async function deployImage(image: string, token?: string): Promise<Response> {
  return agent.call(
    'POST',
    `/v1/projects/${P}/deployments`,
    { image },
    token ? { authorization: `Bearer ${token}` } : {},
  );
}

async function deployAndWait(
  image: string,
): Promise<Record<string, unknown> & { status: string; failure_reason: string | null; id: string }> {
  const res = await deployImage(image);
  expect(res.status).toBe(202);
  const dep = (await res.json()) as { id: string };
  return { ...(await waitForStatus(agent, P, dep.id, ['live', 'failed'], 90_000)), id: dep.id };
}

async function mint(scope: string, projects: string[] | null): Promise<string> {
  const res = await agent.call('POST', '/v1/tokens', { name: `t-${scope}`, scope, projects });
  return ((await res.json()) as { token: string }).token;
}

/** The HostConfig fields that make up an app container's runtime isolation. */
async function isolationOf(deploymentId: string) {
  const [c] = await docker.listContainers({ filters: { label: [`slipway.deployment=${deploymentId}`] } });
  const info = await docker.getContainer(c!.Id).inspect();
  const h = info.HostConfig;
  return {
    user: info.Config.User,
    capDrop: h.CapDrop,
    capAdd: h.CapAdd,
    securityOpt: h.SecurityOpt,
    privileged: h.Privileged,
    pidsLimit: h.PidsLimit,
    memory: h.Memory,
    nanoCpus: h.NanoCpus,
    network: h.NetworkMode,
    bindings: Object.values(h.PortBindings ?? {})
      .flat()
      .map((b) => (b as { HostIp?: string } | undefined)?.HostIp),
  };
}

describe.skipIf(!hasDocker)('deploying a prebuilt image from a private registry', () => {
  let builtIsolation: Awaited<ReturnType<typeof isolationOf>>;
  let live: { id: string; image: { tag: string } };

  test('a registry on a loopback address is refused until an admin registers it', async () => {
    const res = await deployImage(ref('team/app:1.4'));
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain(`Cannot pull from registry "${registry.host}"`);
  });

  test('a pull with wrong credentials fails the deployment with the reason, and nothing changes', async () => {
    const add = await agent.call('POST', '/v1/registries', {
      host: registry.host,
      username: registry.username,
      password: 'wrong',
    });
    expect(add.status).toBe(201);
    const done = await deployAndWait(ref('team/app:1.4'));
    expect(done.status).toBe('failed');
    expect(done.failure_reason).toContain('the registry refused the stored credentials');
  }, 60_000);

  test('the built release the image deployments are compared with goes live', async () => {
    const res = await agent.call(
      'POST',
      `/v1/projects/${P}/deployments`,
      tgzOf([{ name: 'index.html', body: 'built' }]),
      {
        'content-type': 'application/gzip',
      },
    );
    const dep = (await res.json()) as { id: string };
    expect((await waitForStatus(agent, P, dep.id, ['live', 'failed'], 90_000)).status).toBe('live');
    builtIsolation = await isolationOf(dep.id);
  }, 90_000);

  test('with good credentials the image is pulled, labelled and served through the edge', async () => {
    const replaced = await agent.call('POST', '/v1/registries', {
      host: registry.host,
      username: registry.username,
      password: registry.password,
    });
    expect(replaced.status).toBe(200);
    const done = await deployAndWait(ref('team/app:1.4'));
    expect(done.status).toBe('live');
    expect(done.image_ref).toBe(ref('team/app:1.4'));
    expect(done.source).toBeNull();
    live = done as never;
    expect(live.image.tag).toMatch(new RegExp(`^slipway/${P}:\\d+-[0-9a-z]{10}$`));
    expect(await (await viaEdge(agent.edgePort!, `${P}.localhost`)).text()).toBe('<h1>image one</h1>');
    const log = await (await agent.call('GET', `/v1/projects/${P}/deployments/${done.id}/logs`)).text();
    expect(log).toContain(`Pulling ${ref('team/app:1.4')} (sha256:`);
    expect(log).toMatch(/Pulled .* MB\) in/);
    expect(log).toContain('is live');
  }, 90_000);

  test('the pulled image carries the release labels and the registry name is left in no tag', async () => {
    const image = await docker.getImage(live.image.tag).inspect();
    expect(image.RepoTags).toEqual([live.image.tag]);
    // A release image carries the agent's labels (its tag names the project); its containers carry the deployment's.
    const slipwayLabels = Object.fromEntries(
      Object.entries(image.Config.Labels ?? {}).filter(([k]) => LABEL_KEYS.has(k)),
    );
    expect(slipwayLabels).toEqual({
      'slipway.managed': 'true',
      'slipway.agent': expect.stringMatching(/^agt_/),
    });
    const all = await docker.listImages();
    expect(
      all.flatMap((i) => [...(i.RepoTags ?? []), ...(i.RepoDigests ?? [])]).filter((t) => t.startsWith(registry.host)),
    ).toEqual([]);
  });

  test('the instance of a pulled image runs with exactly the isolation of a built one', async () => {
    expect(await isolationOf(live.id)).toEqual(builtIsolation);
    expect(builtIsolation.capDrop).toEqual(['ALL']);
    expect(builtIsolation.securityOpt).toEqual(['no-new-privileges']);
    expect(builtIsolation.bindings).toEqual(['127.0.0.1']);
  });

  test('a missing tag fails the deployment and the live release keeps serving', async () => {
    const done = await deployAndWait(ref('team/app:9.9'));
    expect(done.status).toBe('failed');
    expect(done.failure_reason).toBe(`Cannot pull ${ref('team/app:9.9')}: the registry has no such image or tag`);
    expect(await (await viaEdge(agent.edgePort!, `${P}.localhost`)).text()).toBe('<h1>image one</h1>');
  }, 60_000);

  test('an image that does not answer on PORT fails the health gate like a build would', async () => {
    const done = await deployAndWait(ref('team/wrong-port:1'));
    expect(done.status).toBe('failed');
    expect(done.failure_reason).toContain('The app did not answer GET / with 2xx or 3xx within 5 s');
    expect(await (await viaEdge(agent.edgePort!, `${P}.localhost`)).text()).toBe('<h1>image one</h1>');
  }, 60_000);

  test('an image carrying a Slipway label it was not given is refused', async () => {
    const done = await deployAndWait(ref('team/forged:1'));
    expect(done.status).toBe('failed');
    expect(done.failure_reason).toContain('carries Slipway labels it was not given (slipway.role)');
  }, 60_000);

  test('an image with ONBUILD triggers is refused before anything of it runs', async () => {
    const done = await deployAndWait(ref('team/onbuild:1'));
    expect(done.status).toBe('failed');
    expect(done.failure_reason).toContain('ONBUILD triggers');
    const log = await (await agent.call('GET', `/v1/projects/${P}/deployments/${done.id}/logs`)).text();
    expect(log).not.toContain('triggered');
  }, 60_000);

  test("a project's deploy token deploys images to it, not to other projects, and cannot manage registries", async () => {
    const token = await mint('deploy', [P]);
    const res = await deployImage(ref('team/app:1.5'), token);
    expect(res.status).toBe(202);
    const dep = (await res.json()) as { id: string };
    expect((await waitForStatus(agent, P, dep.id, ['live', 'failed'], 90_000)).status).toBe('live');
    expect(await (await viaEdge(agent.edgePort!, `${P}.localhost`)).text()).toBe('<h1>image two</h1>');
    const other = await agent.call(
      'POST',
      `/v1/projects/${OTHER}/deployments`,
      { image: ref('team/app:1.5') },
      {
        authorization: `Bearer ${token}`,
      },
    );
    expect(other.status).toBe(403);
    for (const [method, body] of [
      ['GET', undefined],
      ['POST', { host: 'x.example', username: 'u', password: 'p' }],
    ] as const) {
      const r = await agent.call(method, '/v1/registries', body, { authorization: `Bearer ${token}` });
      expect(r.status).toBe(403);
    }
  }, 90_000);

  test('compare shows the two images apart and says a pulled image has no source', async () => {
    const list = (await (await agent.call('GET', `/v1/projects/${P}/deployments?status=replaced`)).json()) as {
      data: { number: number; image_ref: string | null }[];
    };
    const first = list.data.find((d) => d.image_ref === ref('team/app:1.4'))!;
    const now = (await (await agent.call('GET', `/v1/projects/${P}/deployments?status=live`)).json()) as {
      data: { number: number }[];
    };
    const res = await agent.call(
      'GET',
      `/v1/projects/${P}/deployments/compare?from=${first.number}&to=${now.data[0]!.number}`,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      image: { changed: boolean; from: { ref: string; digest: string } };
      source: { available: boolean; reason: string };
    };
    expect(body.image.changed).toBe(true);
    expect(body.image.from.ref).toBe(ref('team/app:1.4'));
    expect(body.image.from.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(body.source).toEqual({ available: false, reason: expect.stringContaining('prebuilt image') });
  });

  test('rolling back to the first image makes it live again without a pull', async () => {
    const res = await agent.call('POST', `/v1/projects/${P}/rollback`, { deployment_id: live.id });
    expect(res.status).toBe(202);
    const dep = (await res.json()) as { id: string };
    expect((await waitForStatus(agent, P, dep.id, ['live', 'failed'], 60_000)).status).toBe('live');
    expect(await (await viaEdge(agent.edgePort!, `${P}.localhost`)).text()).toBe('<h1>image one</h1>');
    const log = await (await agent.call('GET', `/v1/projects/${P}/deployments/${dep.id}/logs`)).text();
    expect(log).not.toContain('Pulling');
  }, 60_000);
});
