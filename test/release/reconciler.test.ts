import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { DeploymentRow } from '../../src/db/deployments.ts';
import { startEdge, type RunningEdge } from '../../src/edge/runtime.ts';
import { appLabels } from '../../src/runtime/labels.ts';
import { makeTestApp, TEST_ACTOR, type TestApp } from '../helpers/app.ts';
import { FIXTURE_IMAGES, viaEdge } from '../helpers/agent.ts';
import { tgzOf } from '../helpers/archives.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';

const docker = dockerClient();
const P = `rec-${crypto.randomUUID().slice(0, 6)}`;
const hasDocker = await requireDocker();
let t: TestApp;
let edge: RunningEdge;

async function until<T>(get: () => T | Promise<T>, ok: (v: T) => boolean, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await Bun.sleep(100);
  }
}

beforeAll(async () => {
  if (!hasDocker) return;
  // The API, worker and edge of one agent in this process, on the real engine.
  t = makeTestApp({ ...FIXTURE_IMAGES, SLIPWAY_HTTP_LISTEN: '127.0.0.1:0', SLIPWAY_DRAIN_TIMEOUT: '2' });
  edge = startEdge(t.deps.config, t.deps.log);
  // What `serve` does as root before the worker starts: builds are refused without it.
  await t.deps.buildIsolation.prepare();
  t.deps.worker.start();
  t.deps.projects.create(TEST_ACTOR, { name: P, instances: 2 });
});

afterAll(async () => {
  if (!hasDocker) return;
  await t.deps.worker.stop();
  await t.deps.teardown(TEST_ACTOR, P).catch(() => {});
  await edge.stop();
  t.close();
});

describe.skipIf(!hasDocker)('the reconciler', () => {
  test('replaces a killed instance of the live release, and the edge follows', async () => {
    const res = await t.app.handle(
      new Request(`http://localhost/v1/projects/${P}/deployments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/gzip' },
        body: tgzOf([{ name: 'index.html', body: 'reconciled' }]),
      }),
    );
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const live = await until(
      () => t.deps.deploymentRepo.findAny(id)!,
      (r: DeploymentRow) => r.status === 'live' || r.status === 'failed',
      'the deployment',
    );
    expect(
      live.status,
      t.deps.logs
        .read(id, 0)
        .map((l) => l.line)
        .join('\n'),
    ).toBe('live');
    const before = await t.deps.runtime.list(t.deps.projects.get(P));
    expect(before.map((i) => i.state)).toEqual(['running', 'running']);

    const victim = before[0]!;
    await docker.getContainer(victim.containerId!).remove({ force: true });
    await t.deps.reconciler.run();

    const after = await t.deps.runtime.list(t.deps.projects.get(P));
    expect(after.filter((i) => i.state === 'running' && i.deploymentId === id)).toHaveLength(2);
    expect(after.map((i) => i.id)).not.toContain(victim.id);
    const route = t.deps.edge.route(P)!;
    expect(JSON.parse(route.targets).sort()).toEqual(after.map((i) => i.target).sort());
    expect(t.deps.lifecycle.liveOf(t.deps.projects.get(P).id)?.id).toBe(id);
    expect(t.deps.logs.read(id, 0).map((l) => l.line)).toContain(
      'Reconciler: 1 of 2 instances running; replacing them',
    );
    const served = await until(
      () => viaEdge(edge.port, `${P}.localhost`).then(async (r) => `${r.status} ${await r.text()}`),
      (v: string) => v === '200 reconciled',
      'the edge to serve the new instances',
      10_000,
    );
    expect(served).toBe('200 reconciled');
  }, 120_000);

  test("a container that only wears the live release's labels is never routed, listed or kept", async () => {
    const p = t.deps.projects.get(P);
    const live = t.deps.lifecycle.liveOf(p.id)!;
    const agentId = (t.deps.db.prepare("SELECT value FROM meta WHERE key = 'agent_id'").get() as { value: string })
      .value;
    // What a build step or anyone with engine access could make: every label of a live instance.
    const impostor = await docker.createContainer({
      Image: 'slipway-fixture/static:latest',
      Labels: appLabels(agentId, { project: P, id: live.id, number: live.number }),
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
    });
    await impostor.start();
    const listed = await t.deps.runtime.list(p);
    expect(listed.map((i) => i.containerId)).not.toContain(impostor.id);
    await t.deps.reconciler.run({ unrecordedGraceSeconds: 0 });
    await expect(impostor.inspect()).rejects.toMatchObject({ statusCode: 404 });
    const targets = JSON.parse(t.deps.edge.route(P)!.targets) as string[];
    expect(targets.sort()).toEqual(listed.map((i) => i.target!).sort());
  }, 60_000);
});
