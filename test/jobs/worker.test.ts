import { afterAll, describe, expect, test } from 'bun:test';
import type { DeploymentRow } from '../../src/db/deployments.ts';
import type { Releaser } from '../../src/jobs/pipeline.ts';
import { HealthCheckTimedOut } from '../../src/deployments/failures.ts';
import { makeTestApp, TEST_ACTOR, type TestApp } from '../helpers/app.ts';
import { PREBUILT, queueDeployment } from '../helpers/deployments.ts';
import { dockerClient, removeProjectNetworks, requireDocker } from '../helpers/docker.ts';
import { networkName } from '../../src/runtime/network.ts';

const hasDocker = await requireDocker();

/**
 * The worker through the real pipeline and SQLite, with the release step (Docker) replaced by a
 * gate each test opens: deployments carry an image already, so the pipeline goes straight to it.
 */
function harness(concurrency: number) {
  const releasing = new Map<string, { go(): void; fail(err: Error): void }>();
  const started: string[] = [];
  const networks = new Map<string, string | undefined>();
  // `go` does what a real release does once its instances are healthy: it goes live.
  const release: Releaser = (row, signal, _log, network) =>
    new Promise<void>((resolve, reject) => {
      started.push(row.id);
      networks.set(row.id, network);
      const go = () => {
        t.deps.lifecycle.goLive(row);
        resolve();
      };
      releasing.set(row.id, { go, fail: reject });
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  const t = makeTestApp({ SLIPWAY_BUILD_CONCURRENCY: String(concurrency) }, { release });
  for (const name of ['a', 'b', 'c']) t.deps.projects.create(TEST_ACTOR, { name });
  t.deps.worker.start();
  return { t, started, releasing, networks };
}

const queue = (t: TestApp, project: string): DeploymentRow =>
  queueDeployment(t.deps, project, { ...PREBUILT, image_id: 'sha256:0', image_tag: `slipway/${project}:1` });

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await Bun.sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const statusOf = (t: TestApp, id: string) => t.deps.deploymentRepo.findAny(id)!.status;

describe('the deploy worker', () => {
  const { t, started, releasing, networks } = harness(2);
  afterAll(async () => {
    await t.deps.worker.stop();
    t.close();
    if (hasDocker) await removeProjectNetworks(dockerClient(), ['a', 'b', 'c']);
  });

  test('runs one deployment per project at a time, the next once the first has ended', async () => {
    const first = queue(t, 'a');
    t.deps.worker.kick();
    await until(() => started.includes(first.id), 'the first release');
    const second = queue(t, 'a');
    t.deps.worker.kick();
    await Bun.sleep(100);
    expect(statusOf(t, first.id)).toBe('deploying');
    expect(statusOf(t, second.id)).toBe('queued');
    expect(started).not.toContain(second.id);
    releasing.get(first.id)!.go();
    await until(() => started.includes(second.id), 'the second release');
    expect(statusOf(t, second.id)).toBe('deploying');
    releasing.get(second.id)!.fail(new HealthCheckTimedOut('/', 5000, 'HTTP 500'));
    await until(() => statusOf(t, second.id) === 'failed', 'the second to fail');
    expect(t.deps.deploymentRepo.findAny(second.id)!.failure_reason).toBe(
      'The app did not answer GET / with 2xx or 3xx within 5 s (last: HTTP 500)',
    );
  });

  test.skipIf(!hasDocker)('hands the release the project network it made while the image was made', async () => {
    const row = queue(t, 'a');
    t.deps.worker.kick();
    await until(() => started.includes(row.id), 'the release');
    expect(networks.get(row.id)).toBe(networkName('a'));
    const made = await t.deps.docker.getNetwork(networkName('a')).inspect();
    expect(made.Labels).toMatchObject({ 'slipway.managed': 'true', 'slipway.project': 'a' });
    releasing.get(row.id)!.go();
    await until(() => t.deps.worker.active === 0, 'the worker to go idle');
  });

  test('runs at most SLIPWAY_BUILD_CONCURRENCY deployments at once, over all projects', async () => {
    expect(t.deps.config.buildConcurrency).toBe(2);
    const before = started.length;
    const rows = ['a', 'b', 'c'].map((p) => queue(t, p));
    t.deps.worker.kick();
    await until(() => started.length === before + 2, 'two releases');
    await Bun.sleep(100);
    expect(started.length).toBe(before + 2);
    expect(t.deps.worker.active).toBe(2);
    const waiting = rows.find((r) => !started.includes(r.id))!;
    expect(statusOf(t, waiting.id)).toBe('queued');
    // The oldest go first. Which of the two reaches its release first is not fixed: each first
    // waits for its project's network, made while it builds.
    expect(started.slice(before).sort()).toEqual([rows[0]!.id, rows[1]!.id].sort());
    releasing.get(rows[0]!.id)!.go();
    await until(() => started.includes(waiting.id), 'the third release');
    for (const r of rows.slice(1)) releasing.get(r.id)!.go();
    await until(() => t.deps.worker.active === 0, 'the worker to go idle');
  });

  test('a cancel aborts a running deployment, which ends canceled', async () => {
    const row = queue(t, 'b');
    t.deps.worker.kick();
    await until(() => started.includes(row.id), 'the release');
    expect(t.deps.deployments.cancel(TEST_ACTOR, 'b', row.id).id).toBe(row.id);
    await until(() => statusOf(t, row.id) === 'canceled', 'the cancel');
    expect(t.deps.deploymentRepo.findAny(row.id)!.failure_reason).toBe('Canceled by request');
  });

  test('stopping the worker interrupts what runs: it ends failed, and nothing new starts', async () => {
    const row = queue(t, 'c');
    t.deps.worker.kick();
    await until(() => started.includes(row.id), 'the release');
    await t.deps.worker.stop();
    expect(t.deps.deploymentRepo.findAny(row.id)).toMatchObject({
      status: 'failed',
      failure_reason: 'interrupted: Slipway stopped while the deployment ran',
    });
    const later = queue(t, 'c');
    t.deps.worker.kick();
    await Bun.sleep(100);
    expect(statusOf(t, later.id)).toBe('queued');
  });
});

describe('SLIPWAY_BUILD_CONCURRENCY=1', () => {
  const { t, started, releasing } = harness(1);
  afterAll(async () => {
    await t.deps.worker.stop();
    t.close();
    if (hasDocker) await removeProjectNetworks(dockerClient(), ['a', 'b', 'c']);
  });

  test('runs deployments of different projects one after another', async () => {
    const a = queue(t, 'a');
    const b = queue(t, 'b');
    t.deps.worker.kick();
    await until(() => started.length === 1, 'the first release');
    await Bun.sleep(100);
    expect(started).toEqual([a.id]);
    expect(statusOf(t, b.id)).toBe('queued');
    releasing.get(a.id)!.go();
    await until(() => started.length === 2, 'the second release');
    expect(started).toEqual([a.id, b.id]);
    releasing.get(b.id)!.go();
  });
});
