import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { createDeps, type Deps } from '../../src/deps.ts';
import type { DeploymentRow, DeploymentStatus } from '../../src/db/deployments.ts';
import { recoverInterrupted } from '../../src/jobs/recovery.ts';
import type { Releaser } from '../../src/jobs/pipeline.ts';
import { deploymentLabels, projectImageLabels, releaseImageLabels } from '../../src/runtime/labels.ts';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { createLogger } from '../../src/log.ts';
import { TEST_ACTOR } from '../helpers/app.ts';
import { PREBUILT, queueDeployment } from '../helpers/deployments.ts';
import { removeDataDir } from '../helpers/agent.ts';
import { cleanupByLabel, removeProjectNetworks, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';

const docker = dockerClient();
const label = testLabel();
const dir = mkdtempSync(join(tmpdir(), 'slipway-recovery-'));
const quiet = createLogger('error');

/** An agent's services on `dir`, as `serve` makes them; `release` stands in for Docker's part. */
function open(release?: Releaser): Deps {
  return createDeps(loadConfig({ SLIPWAY_DATA_DIR: dir }), { log: quiet, docker, release });
}

const queue = (deps: Deps, project: string): DeploymentRow => queueDeployment(deps, project, PREBUILT);

/** Walks a deployment through the lifecycle to `status`, as the worker and a release would. */
function advance(deps: Deps, row: DeploymentRow, status: DeploymentStatus): void {
  const steps: DeploymentStatus[] = ['building', 'deploying', 'live'];
  for (const step of steps.slice(0, steps.indexOf(status) + 1)) {
    if (step === 'building') deps.lifecycle.claim(row.id);
    if (step === 'deploying') deps.lifecycle.startDeploying(row.id);
    if (step === 'live') deps.lifecycle.goLive(deps.deploymentRepo.findAny(row.id)!);
  }
}

/** An untagged image with `labels` (and the test's), as a build leaves its last good step. */
async function untagged(labels: Record<string, string>): Promise<string> {
  const pairs = Object.entries({ ...labels, ...label }).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const context = pack();
  context.entry({ name: 'Dockerfile' }, `FROM slipway-fixture/static:latest\nLABEL ${pairs.join(' ')}\n`);
  context.finalize();
  const stream = await docker.buildImage(Readable.from(context), { version: '1', rm: true });
  const out = await new Promise<{ aux?: { ID?: string } }[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (err, res) => (err ? reject(err) : resolve(res))),
  );
  return out.find((m) => m.aux?.ID)!.aux!.ID!;
}

const exists = (id: string) =>
  docker
    .getImage(id)
    .inspect()
    .then(
      () => true,
      () => false,
    );

afterAll(async () => {
  await cleanupByLabel(docker, label['slipway.test']);
  await removeProjectNetworks(docker, ['queued', 'building', 'deploying', 'live']);
  removeDataDir(dir);
});

describe.skipIf(!(await requireDocker()))('recovery after a crash', () => {
  test('each mid-flight state is resolved, its leftovers removed, and queued work runs on', async () => {
    const before = open();
    for (const p of ['queued', 'building', 'deploying', 'live']) before.projects.create(TEST_ACTOR, { name: p });
    const rows = {
      queued: queue(before, 'queued'),
      building: queue(before, 'building'),
      deploying: queue(before, 'deploying'),
      live: queue(before, 'live'),
    };
    advance(before, rows.building, 'building');
    advance(before, rows.deploying, 'deploying');
    advance(before, rows.live, 'live');
    // What a build and a release had made when the process died: a step container, an instance.
    const agent = before.db.prepare("SELECT value FROM meta WHERE key = 'agent_id'").get() as { value: string };
    const leftovers = await Promise.all(
      [rows.building, rows.deploying].map((row) =>
        docker.createContainer({
          Image: 'slipway-fixture/static:latest',
          Labels: { ...deploymentLabels(agent.value, row), ...label },
        }),
      ),
    );
    // A generated build's last good step (the agent's labels only), a project's build cache, and
    // another agent's leftover: only the first is the interrupted build's to sweep.
    const [leftover, cache, foreign] = [
      await untagged(releaseImageLabels(agent.value)),
      await untagged(projectImageLabels(agent.value, 'live')),
      await untagged(releaseImageLabels(`${agent.value}-other`)),
    ];
    // The crash: the database is closed with work in flight, nothing is stopped.
    before.close();

    const started: string[] = [];
    const after = open(async (row) => {
      started.push(row.id);
      after.lifecycle.goLive(row);
    });
    const recovered = await recoverInterrupted(after.lifecycle, docker, quiet, agent.value);
    expect(recovered.sort()).toEqual([rows.building.id, rows.deploying.id].sort());
    for (const row of [rows.building, rows.deploying]) {
      expect(after.deploymentRepo.findAny(row.id)).toMatchObject({
        status: 'failed',
        failure_reason: 'interrupted: Slipway stopped while the deployment ran',
      });
    }
    for (const c of leftovers) await expect(c.inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect([await exists(leftover), await exists(cache), await exists(foreign)]).toEqual([false, true, true]);
    expect(after.deploymentRepo.findAny(rows.live.id)!.status).toBe('live');
    expect(after.deploymentRepo.findAny(rows.queued.id)!.status).toBe('queued');

    after.worker.start();
    for (let i = 0; i < 200 && !started.includes(rows.queued.id); i++) await Bun.sleep(10);
    await after.worker.stop();
    expect(started).toEqual([rows.queued.id]);
    expect(after.deploymentRepo.findAny(rows.queued.id)!.status).toBe('live');
    after.close();
  }, 60_000);
});
