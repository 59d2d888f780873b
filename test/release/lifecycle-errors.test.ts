import { afterAll, describe, expect, test } from 'bun:test';
import { lifecycleError } from '../../src/release/lifecycle-errors.ts';
import { InstanceExited, StartFailed } from '../../src/deployments/failures.ts';
import { ConflictError, DockerUnavailableError, NotFoundError } from '../../src/errors.ts';
import { makeTestApp, TEST_ACTOR, type TestApp } from '../helpers/app.ts';
import { queueDeployment } from '../helpers/deployments.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';

/** A project with a live release whose image the engine does not have: new instances cannot be created. */
function liveWithoutImage(t: TestApp, name: string) {
  t.deps.projects.create(TEST_ACTOR, { name });
  const row = queueDeployment(t.deps, name, {
    trigger: 'restart',
    stack: 'static',
    image_id: `sha256:${'0'.repeat(64)}`,
    image_tag: `slipway/${name}:1-aaaaaaaaaa`,
    exposed_port: 8080,
  });
  expect(t.deps.lifecycle.claim(row.id)).toBe(true);
  expect(t.deps.lifecycle.startDeploying(row.id)).toBe(true);
  expect(t.deps.lifecycle.goLive(t.deps.deploymentRepo.findAny(row.id)!)).toBe(true);
}

const body = async (res: Response) => (await res.json()) as { error: { code: string; message: string } };

describe('lifecycle errors', () => {
  test('a start failure is a conflict, the engine out of reach is docker_unavailable, a health failure a conflict', () => {
    const refused = lifecycleError('scale', 'web', new StartFailed('No such image: sha256:00'));
    expect(refused).toBeInstanceOf(ConflictError);
    expect((refused as Error).message).toBe(
      'Cannot scale "web": cannot start the container: No such image: sha256:00; the running instances were left as they were',
    );
    const unreachable = lifecycleError(
      'restart',
      'web',
      new StartFailed('connect ECONNREFUSED /run/docker.sock', true),
    );
    expect(unreachable).toBeInstanceOf(DockerUnavailableError);
    expect((unreachable as Error).message).toBe(
      'Cannot restart "web": the Docker engine did not answer (connect ECONNREFUSED /run/docker.sock)',
    );
    const socket = Object.assign(new Error('connect ENOENT /nowhere.sock'), { code: 'ENOENT' });
    expect(lifecycleError('start', 'web', socket)).toBeInstanceOf(DockerUnavailableError);
    expect(lifecycleError('restart', 'web', new InstanceExited(3))).toBeInstanceOf(ConflictError);
    // What is already an API error, or not a failure at all, passes through.
    const missing = new NotFoundError('No project named "web"');
    expect(lifecycleError('scale', 'web', missing)).toBe(missing);
    const bug = new TypeError('x is undefined');
    expect(lifecycleError('scale', 'web', bug)).toBe(bug);
  });
});

describe.skipIf(!(await requireDocker()))('scale and restart whose new instances cannot start', () => {
  const t = makeTestApp();
  const name = `startfail-${crypto.randomUUID().slice(0, 8)}`;
  liveWithoutImage(t, name);
  afterAll(async () => {
    await dockerClient()
      .getNetwork(`slipway-${name}`)
      .remove()
      .catch(() => {});
    t.close();
  });

  test('answer 409 in the error envelope, saying why, and change nothing', async () => {
    for (const [path, reqBody, doing] of [
      ['scale', { instances: 2 }, 'scale'],
      ['restart', undefined, 'restart'],
    ] as const) {
      const res = await t.req('POST', `/v1/projects/${name}/${path}`, reqBody ? { body: reqBody } : {});
      expect(res.status).toBe(409);
      const { error } = await body(res);
      expect(error.code).toBe('conflict');
      expect(error.message).toStartWith(`Cannot ${doing} "${name}": cannot start the container: `);
      expect(error.message).toContain('No such image');
    }
    expect(t.deps.projects.get(name).instances).toBe(1);
    const left = await dockerClient().listContainers({ all: true, filters: { label: [`slipway.project=${name}`] } });
    expect(left).toEqual([]);
  }, 60_000);
});

describe('scale when the Docker engine is out of reach', () => {
  const t = makeTestApp({ DOCKER_HOST: 'unix:///nonexistent/slipway-test-docker.sock' });
  const name = 'unreachable';
  liveWithoutImage(t, name);
  afterAll(() => t.close());

  test('answers 503 docker_unavailable', async () => {
    const res = await t.req('POST', `/v1/projects/${name}/scale`, { body: { instances: 2 } });
    expect(res.status).toBe(503);
    const { error } = await body(res);
    expect(error.code).toBe('docker_unavailable');
    expect(error.message).toStartWith(`Cannot scale "${name}": the Docker engine did not answer (`);
  });
});
