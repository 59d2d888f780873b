/**
 * Network holders (src/runtime/holder.ts) on the real engine: made ahead by runtime.prepare, joined
 * by the release's containers, gone with them, and never left behind or trusted once broken.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import type Docker from 'dockerode';
import { dockerRuntime } from '../../src/runtime/docker-runtime.ts';
import { pauseProgram } from '../../src/runtime/holder.ts';
import { networkName } from '../../src/runtime/network.ts';
import type { ReleaseSpec, Runtime } from '../../src/runtime/runtime.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { makeTestApp, TEST_ACTOR } from '../helpers/app.ts';

const hasDocker = (await requireDocker()) && process.arch === 'x64';
const P = `hold-${crypto.randomUUID().slice(0, 6)}`;
const AGENT = `agt_hold${crypto.randomUUID().slice(0, 4)}`;
const t = makeTestApp();
t.deps.projects.create(TEST_ACTOR, { name: P });
const projectId = t.deps.db.prepare('SELECT id FROM projects WHERE name = ?').pluck().get(P) as string;
const docker = dockerClient();

afterAll(async () => {
  if (hasDocker) {
    const left = await docker.listContainers({ all: true, filters: { label: [`slipway.project=${P}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await docker
      .getNetwork(networkName(P))
      .remove()
      .catch(() => {});
  }
  t.close();
});

/** The holders of project P on the engine. */
async function holders(): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`slipway.project=${P}`, 'slipway.role=holder'] } });
}

/** Waits until `n` holders of P run (runtime.prepare makes them in the background). */
async function untilHolders(n: number): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const running = (await holders()).filter((c) => c.State === 'running');
    if (running.length === n) return running.map((c) => c.Id);
    if (Date.now() > deadline) throw new Error(`${running.length} holders run, not ${n}`);
    await Bun.sleep(50);
  }
}

async function release(runtime: Runtime, port = 8080): Promise<ReleaseSpec> {
  return {
    agentId: AGENT,
    project: P,
    projectId,
    deploymentId: 'dep_hold',
    number: 1,
    image: (await docker.getImage('slipway-fixture/static:latest').inspect()).Id,
    imageTag: null,
    network: await runtime.ensureNetwork(P),
    port,
    env: {},
    memoryMb: 64,
    cpus: 0.5,
  };
}

/** Whether something answers HTTP at `target` within a few seconds. */
async function answers(target: string): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const res = await fetch(`http://${target}/`).catch(() => null);
    if (res) return true;
    await Bun.sleep(50);
  }
  return false;
}

describe('the pause program', () => {
  test.skipIf(process.arch !== 'x64')('is an executable that sleeps and ends on SIGTERM', async () => {
    const path = `${process.env.TMPDIR ?? '/tmp'}/slipway-pause-${crypto.randomUUID().slice(0, 6)}`;
    await Bun.write(path, pauseProgram()!);
    Bun.spawnSync(['chmod', '755', path]);
    const child = Bun.spawn([path]);
    await Bun.sleep(200);
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await child.exited).toBe(143);
    Bun.spawnSync(['rm', '-f', path]);
  });

  test('is made for x86-64 only', () => {
    expect(pauseProgram('arm64')).toBeNull();
  });
});

describe.skipIf(!hasDocker)('network holders', () => {
  const runtime = dockerRuntime(docker, t.deps.instances, AGENT);

  test("a release's instances join the holders made ahead for them, which carry their traffic", async () => {
    const spec = await release(runtime);
    runtime.prepare(spec, 2);
    const made = await untilHolders(2);
    const started = await runtime.start(spec, 2);
    for (const instance of started) {
      const info = await docker.getContainer(instance.id).inspect();
      const holder = info.HostConfig.NetworkMode!.replace(/^container:/, '');
      expect(made).toContain(holder);
      const held = await docker.getContainer(holder).inspect();
      expect(held.HostConfig.NetworkMode).toBe(networkName(P));
      expect(instance.target).toBe(`127.0.0.1:${held.NetworkSettings.Ports['8080/tcp']![0]!.HostPort}`);
      expect(await answers(instance.target)).toBe(true);
    }
    expect((await runtime.list({ id: projectId, name: P })).map((i) => i.target).sort()).toEqual(
      started.map((i) => i.target).sort(),
    );
    await runtime.remove(
      started.map((i) => i.id),
      0,
    );
    expect(await holders()).toEqual([]);
  });

  test('an instance on another port than the one prepared starts on the network itself', async () => {
    const spec = await release(runtime);
    runtime.prepare(spec, 1);
    await untilHolders(1);
    const [instance] = await runtime.start({ ...spec, port: 9090 }, 1);
    const info = await docker.getContainer(instance!.id).inspect();
    expect(info.HostConfig.NetworkMode).toBe(networkName(P));
    expect(await answers(instance!.target)).toBe(true);
    await runtime.remove([instance!.id], 0);
    expect(await holders()).toHaveLength(1); // still waiting for an instance on 8080
  });

  test('an instance whose holder started again after it is reported without a target', async () => {
    const spec = await release(runtime);
    runtime.prepare(spec, 1);
    const [instance] = await runtime.start(spec, 1);
    const holder = (await docker.getContainer(instance!.id).inspect()).HostConfig.NetworkMode!.slice(10);
    await docker.getContainer(holder).restart({ t: 0 });
    const [listed] = await runtime.list({ id: projectId, name: P });
    expect(listed!.target).toBeNull(); // the reconciler replaces it
    await runtime.remove([instance!.id], 0);
  });

  test('a holder that is gone when its instance starts leaves the instance on the network itself', async () => {
    const spec = await release(runtime);
    runtime.prepare(spec, 1);
    const [waiting] = await untilHolders(1);
    await docker.getContainer(waiting!).remove({ force: true });
    const [instance] = await runtime.start(spec, 1);
    expect((await docker.getContainer(instance!.id).inspect()).HostConfig.NetworkMode).toBe(networkName(P));
    await runtime.remove([instance!.id], 0);
  });

  test('holders nobody recorded are removed, those waiting for a release are kept', async () => {
    const spec = await release(runtime);
    runtime.prepare(spec, 1);
    const [waiting] = await untilHolders(1);
    // Another agent process of the same id (as after a restart) does not know the first one's.
    const restarted = dockerRuntime(docker, t.deps.instances, AGENT);
    expect(await runtime.removeUnrecorded(0)).toBe(0);
    expect(await restarted.removeUnrecorded(0)).toBe(1);
    await expect(docker.getContainer(waiting!).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  test("removing the project's network removes the holders waiting on it", async () => {
    const fresh = dockerRuntime(docker, t.deps.instances, AGENT);
    const spec = await release(fresh);
    fresh.prepare(spec, 2);
    await untilHolders(2);
    await fresh.removeNetwork(P);
    expect(await holders()).toEqual([]);
    await expect(docker.getNetwork(networkName(P)).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});
