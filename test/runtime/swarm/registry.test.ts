import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomToken } from '../../../src/ids.ts';
import { parseRegistryAddress, type RegistryAddress } from '../../../src/runtime/swarm/registry-address.ts';
import {
  ClusterRegistryError,
  pruneReleaseImages,
  pushReleaseImage,
  releaseRepository,
  removeReleaseImage,
} from '../../../src/runtime/swarm/registry.ts';
import { cleanupByLabel, requireDocker, testLabel } from '../../helpers/docker.ts';
import { buildTestImage } from '../../helpers/registry.ts';
import { ensureSwarmCluster, type SwarmCluster } from '../../helpers/swarm-cluster.ts';

describe('the cluster registry address', () => {
  test('reads host:port, an optional scheme, and no setting as none', () => {
    expect(parseRegistryAddress('10.77.0.1:5000')).toEqual({ host: '10.77.0.1:5000', scheme: null });
    expect(parseRegistryAddress('https://Registry.example.com/')).toEqual({
      host: 'registry.example.com',
      scheme: 'https',
    });
    expect(parseRegistryAddress('http://10.0.0.5:80')).toEqual({ host: '10.0.0.5:80', scheme: 'http' });
    expect(parseRegistryAddress('')).toBeNull();
  });

  test('refuses paths, credentials, bad ports and other schemes', () => {
    for (const raw of ['r.example.com/slipway', 'user:pw@r.example.com', 'r:99999', 'ftp://r', 'r..x', '-r.com']) {
      expect(() => parseRegistryAddress(raw)).toThrow('expected a registry host');
    }
  });
});

describe('release repositories', () => {
  test('are slipway/<project> for project names only', () => {
    expect(releaseRepository('web-2')).toBe('slipway/web-2');
    for (const name of ['../beta', 'beta/x', 'Beta', '', 'a'.repeat(64), 'beta:1', '1beta', 'beta%2f..']) {
      expect(() => releaseRepository(name)).toThrow(ClusterRegistryError);
    }
  });
});

const hasDocker = await requireDocker();

describe.skipIf(!hasDocker)('the cluster registry on a real single-node swarm', () => {
  let cluster: SwarmCluster;
  let registry: RegistryAddress;
  const label = testLabel();
  const run = randomToken(6).toLowerCase();
  const alpha = `reg-${run}-alpha`;
  const beta = `reg-${run}-beta`;
  const manifestStatus = (repository: string, digest: string) =>
    fetch(`http://${registry.host}/v2/${repository}/manifests/${digest}`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    }).then((r) => r.status);
  /** Builds `slipway/<project>:<tag>` on the manager, with `body` as its index.html. */
  const build = (project: string, tag: string, body: string) =>
    buildTestImage(
      cluster.manager,
      `slipway/${project}:${tag}`,
      { Dockerfile: 'FROM slipway-fixture/static:latest\nCOPY index.html /www/index.html\n', 'index.html': body },
      label,
    );

  beforeAll(() => {
    cluster = ensureSwarmCluster(1);
    registry = parseRegistryAddress(cluster.registry) as RegistryAddress;
  }, 300_000);

  afterAll(async () => {
    const services = await cluster.manager.listServices({
      filters: { label: [`slipway.test=${label['slipway.test']}`] },
    });
    await Promise.all(services.map((s) => cluster.manager.getService(s.ID).remove()));
    await cleanupByLabel(cluster.manager, label['slipway.test']);
  });

  test('a pushed release is pulled by a service on the node from its digest reference', async () => {
    const tag = `1-${randomToken(10)}`;
    await build(alpha, tag, `hello from ${alpha}\n`);
    const pushed = await pushReleaseImage(cluster.manager, registry, {
      project: alpha,
      image: `slipway/${alpha}:${tag}`,
    });
    expect(pushed.reference).toBe(`${registry.host}/slipway/${alpha}@${pushed.digest}`);
    expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The registry alias is not left on the manager; the release's own tag is.
    const local = await cluster.manager.getImage(`slipway/${alpha}:${tag}`).inspect();
    expect(local.RepoTags).toEqual([`slipway/${alpha}:${tag}`]);
    // Without the image on the node, the task can only start by pulling it from the registry.
    await cluster.manager.getImage(local.Id).remove({ force: true });
    // Pinned to the manager (node 0), whose address is asked below: the swarm may have more nodes
    // when the three-node cluster test ran first in the same run.
    const service = await cluster.manager.createService({
      Name: `${alpha}-svc`,
      Labels: label,
      TaskTemplate: {
        ContainerSpec: { Image: pushed.reference, Env: ['PORT=8080'] },
        Placement: { Constraints: ['node.role == manager'] },
      },
      EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host' }] },
    } as never);
    const port = await publishedPort(cluster, service.id as string);
    const body = await firstAnswer(`http://${cluster.nodes[0]!.address}:${port}/`);
    expect(body).toBe(`hello from ${alpha}\n`);
    const pulled = await cluster.manager.getImage(pushed.reference).inspect();
    expect(pulled.RepoDigests).toContain(pushed.reference);
    expect(await removeReleaseImage(registry, { project: alpha, reference: pushed.reference, kept: [] })).toBe(
      'deleted',
    );
  }, 120_000);

  test('a removed release is gone from the registry, and removing it again finds nothing', async () => {
    const tag = `2-${randomToken(10)}`;
    await build(alpha, tag, `release two ${run}\n`);
    const pushed = await pushReleaseImage(cluster.manager, registry, {
      project: alpha,
      image: `slipway/${alpha}:${tag}`,
    });
    expect(await manifestStatus(`slipway/${alpha}`, pushed.digest)).toBe(200);
    expect(await removeReleaseImage(registry, { project: alpha, reference: pushed.reference, kept: [] })).toBe(
      'deleted',
    );
    expect(await manifestStatus(`slipway/${alpha}`, pushed.digest)).toBe(404);
    expect(await removeReleaseImage(registry, { project: alpha, reference: pushed.reference, kept: [] })).toBe(
      'absent',
    );
  }, 60_000);

  test('an identical rebuild keeps the manifest until its last release is removed', async () => {
    const [first, second] = [`3-${randomToken(10)}`, `4-${randomToken(10)}`];
    await build(alpha, first, `same bytes ${run}\n`);
    await cluster.manager.getImage(`slipway/${alpha}:${first}`).tag({ repo: `slipway/${alpha}`, tag: second });
    const a = await pushReleaseImage(cluster.manager, registry, { project: alpha, image: `slipway/${alpha}:${first}` });
    const b = await pushReleaseImage(cluster.manager, registry, {
      project: alpha,
      image: `slipway/${alpha}:${second}`,
    });
    expect(b.digest).toBe(a.digest);
    expect(await removeReleaseImage(registry, { project: alpha, reference: a.reference, kept: [second] })).toBe(
      'shared',
    );
    expect(await manifestStatus(`slipway/${alpha}`, a.digest)).toBe(200);
    expect(await removeReleaseImage(registry, { project: alpha, reference: b.reference, kept: [] })).toBe('deleted');
    expect(await manifestStatus(`slipway/${alpha}`, a.digest)).toBe(404);
  }, 60_000);

  test('pruning keeps the releases rollbacks need and deletes the rest, and all of them with the project', async () => {
    const gamma = `reg-${run}-gamma`;
    const images = [1, 2, 3].map((n) => `slipway/${gamma}:${n}-${randomToken(10)}`);
    const pushed = [];
    for (const [i, image] of images.entries()) {
      await build(gamma, image.split(':')[1]!, `gamma ${i} ${run}\n`);
      pushed.push(await pushReleaseImage(cluster.manager, registry, { project: gamma, image }));
    }
    await expect(pruneReleaseImages(registry, gamma, [`slipway/${alpha}:1-abc`])).rejects.toThrow(
      `is not a release image of "${gamma}"`,
    );
    expect(await pruneReleaseImages(registry, gamma, [images[2]!])).toBe(2);
    expect(await manifestStatus(`slipway/${gamma}`, pushed[0]!.digest)).toBe(404);
    expect(await manifestStatus(`slipway/${gamma}`, pushed[1]!.digest)).toBe(404);
    expect(await manifestStatus(`slipway/${gamma}`, pushed[2]!.digest)).toBe(200);
    expect(await pruneReleaseImages(registry, gamma, [images[2]!])).toBe(0);
    expect(await pruneReleaseImages(registry, gamma, [])).toBe(1);
    const tags = (await fetch(`http://${registry.host}/v2/slipway/${gamma}/tags/list`).then((r) => r.json())) as {
      tags: string[] | null;
    };
    expect(tags.tags ?? []).toEqual([]);
  }, 60_000);

  test("one project cannot push to, overwrite or delete another project's images", async () => {
    const tag = `1-${randomToken(10)}`;
    await build(beta, tag, `beta's own ${run}\n`);
    await cluster.manager.getImage(`slipway/${beta}:${tag}`).tag({ repo: `slipway/${alpha}`, tag });
    const theirs = await pushReleaseImage(cluster.manager, registry, {
      project: beta,
      image: `slipway/${beta}:${tag}`,
    });
    // The same bytes under alpha: a manifest with the same digest, in alpha's repository only.
    const ours = await pushReleaseImage(cluster.manager, registry, {
      project: alpha,
      image: `slipway/${alpha}:${tag}`,
    });
    expect(ours.digest).toBe(theirs.digest);

    await expect(
      pushReleaseImage(cluster.manager, registry, { project: alpha, image: `slipway/${beta}:${tag}` }),
    ).rejects.toThrow(`is not a release image of "${alpha}"`);
    for (const project of [`${alpha}/../${beta}`, `../slipway/${beta}`, `${beta}:x`]) {
      await expect(
        pushReleaseImage(cluster.manager, registry, { project, image: `slipway/${beta}:${tag}` }),
      ).rejects.toThrow(ClusterRegistryError);
    }
    await expect(
      removeReleaseImage(registry, { project: alpha, reference: theirs.reference, kept: [] }),
    ).rejects.toThrow(`is not an image of "${alpha}"`);
    await expect(
      removeReleaseImage(registry, { project: alpha, reference: ours.reference, kept: [`../../${beta}/manifests/x`] }),
    ).rejects.toThrow('is not a release tag');
    for (const reference of [`${registry.host}/slipway/${alpha}/../${beta}@${theirs.digest}`, `${theirs.reference}x`]) {
      await expect(removeReleaseImage(registry, { project: alpha, reference, kept: [] })).rejects.toThrow(
        ClusterRegistryError,
      );
    }

    expect(await removeReleaseImage(registry, { project: alpha, reference: ours.reference, kept: [] })).toBe('deleted');
    expect(await manifestStatus(`slipway/${alpha}`, ours.digest)).toBe(404);
    expect(await manifestStatus(`slipway/${beta}`, theirs.digest)).toBe(200);
    expect(await removeReleaseImage(registry, { project: beta, reference: theirs.reference, kept: [] })).toBe(
      'deleted',
    );
  }, 60_000);
});

/** The host-mode port the service's running task published, once it runs. */
async function publishedPort(cluster: SwarmCluster, serviceId: string): Promise<number> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const tasks = await cluster.manager.listTasks({ filters: { service: [serviceId] } });
    const running = tasks.find((t) => t.Status?.State === 'running');
    const port = running?.Status?.PortStatus?.Ports?.[0]?.PublishedPort;
    if (port) return port;
    const failed = tasks.find((t) => t.Status?.Err);
    if (failed && tasks.length > 2) throw new Error(`the service's tasks fail: ${failed.Status?.Err}`);
    await Bun.sleep(200);
  }
  throw new Error('the service had no running task within 90 s');
}

/** The body of the first answer at `url`: a task reported running may not listen yet. */
async function firstAnswer(url: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await fetch(url).then((r) => r.text());
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await Bun.sleep(100);
    }
  }
}
