import { afterAll, describe, expect, test } from 'bun:test';
import { errorOf, makeTestApp, TEST_ACTOR } from '../helpers/app.ts';

// The worker is not started here: image deployments stay queued, which is what these tests look at.
const t = makeTestApp();
t.deps.projects.create(TEST_ACTOR, { name: 'web' });
t.deps.projects.create(TEST_ACTOR, { name: 'blog' });
afterAll(() => t.close());

const deployImage = (body: unknown, opts: { token?: string; headers?: Record<string, string> } = {}) =>
  t.req('POST', '/v1/projects/web/deployments', { body, ...opts });

describe('POST /v1/projects/{name}/deployments with {"image": …}', () => {
  test('queues a deployment of the image with its reference made explicit, and records it', async () => {
    const res = await deployImage({ image: 'registry.example.com/team/app:1.4' });
    expect(res.status).toBe(202);
    const dep = (await res.json()) as Record<string, unknown>;
    expect(dep).toMatchObject({
      status: 'queued',
      trigger: 'upload',
      source: null,
      image: null,
      image_ref: 'registry.example.com/team/app:1.4',
    });
    const activity = (await (await t.req('GET', '/v1/activity?action=deployment.create')).json()) as {
      data: { target: string; changes: Record<string, unknown> }[];
    };
    expect(activity.data.find((a) => a.target === dep.id)?.changes).toMatchObject({
      image: 'registry.example.com/team/app:1.4',
    });
  });

  test('a Docker Hub name gets docker.io and library/, and no tag means latest', async () => {
    const res = await deployImage({ image: 'nginx' });
    expect(((await res.json()) as { image_ref: string }).image_ref).toBe('docker.io/library/nginx:latest');
    const digest = `sha256:${'a'.repeat(64)}`;
    const pinned = await deployImage({ image: `ghcr.io/org/app@${digest}` });
    expect(((await pinned.json()) as { image_ref: string }).image_ref).toBe(`ghcr.io/org/app@${digest}`);
  });

  test('a repeated Idempotency-Key returns the first deployment', async () => {
    const headers = { 'idempotency-key': 'image-once' };
    const first = (await (await deployImage({ image: 'registry.example.com/a:1' }, { headers })).json()) as {
      id: string;
    };
    const again = await deployImage({ image: 'registry.example.com/a:1' }, { headers });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { id: string }).id).toBe(first.id);
  });

  const refused: [string, unknown, string][] = [
    ['an upper-case repository', { image: 'registry.example.com/Team/app:1' }, 'has a malformed repository name'],
    ['an image ID', { image: `sha256:${'b'.repeat(64)}` }, 'is an image ID'],
    ['a short image ID', { image: 'f7eadcd57377' }, 'is an image ID'],
    [
      "one of Slipway's release images",
      { image: 'slipway/blog:3-abcdefghjk' },
      "names one of Slipway's own release images",
    ],
    ['a space', { image: 'registry.example.com/team/app 1' }, 'has a malformed'],
    ['a bad digest', { image: 'registry.example.com/app@sha256:abc' }, 'has a malformed digest'],
    ['a bad tag', { image: 'registry.example.com/app:-x' }, 'has a malformed tag'],
    ['an overlong reference', { image: `registry.example.com/${'a'.repeat(300)}` }, 'must be 1 to 255 characters long'],
    ['an empty reference', { image: '' }, 'must be 1 to 255 characters long'],
    ['a loopback registry nobody registered', { image: '127.0.0.1:5000/app:1' }, 'is on a loopback or private address'],
    ['localhost', { image: 'localhost:5000/app:1' }, 'is on a loopback or private address'],
    ['a private address', { image: '10.1.2.3/app:1' }, 'is on a loopback or private address'],
    [
      'a link-local address (cloud metadata)',
      { image: '169.254.169.254/app:1' },
      'is on a loopback or private address',
    ],
    ['an IPv6 loopback', { image: '[::1]:5000/app:1' }, 'is on a loopback or private address'],
    ['a field besides image', { image: 'nginx', cmd: 'sh' }, 'Unknown field "cmd"'],
    ['no image', { tag: 'x' }, 'Unknown field "tag"'],
    ['a number', { image: 5 }, 'Field "image" is required'],
    ['an array body', ['nginx'], 'The body must be a JSON object'],
  ];
  for (const [what, body, message] of refused) {
    test(`refuses ${what} with 422`, async () => {
      const res = await deployImage(body);
      expect(res.status).toBe(422);
      const error = await errorOf(res);
      expect(error.code).toBe('validation_error');
      expect(error.message).toContain(message);
    });
  }

  test('refuses a body that is not JSON with 400 and one past 16 KiB with 413', async () => {
    const bad = await deployImage('{"image":', { headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toBe('Cannot parse the request body: expected valid JSON');
    const big = await deployImage({ image: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
    expect((await errorOf(big)).code).toBe('payload_too_large');
  });

  test('a registered private registry may be pulled from', async () => {
    t.deps.registries.add(TEST_ACTOR, { host: '127.0.0.1:5999', username: 'u', password: 'p' });
    const res = await deployImage({ image: '127.0.0.1:5999/team/app:2' });
    expect(res.status).toBe(202);
  });

  test('a read token may not deploy, and a token limited to another project gets 403', async () => {
    const read = t.token({ name: 'reader', scope: 'read' });
    expect((await deployImage({ image: 'nginx' }, { token: read })).status).toBe(403);
    const blogOnly = t.token({ name: 'blog deployer', scope: 'deploy', projects: ['blog'] });
    expect((await deployImage({ image: 'nginx' }, { token: blogOnly })).status).toBe(403);
    const webOnly = t.token({ name: 'web deployer', scope: 'deploy', projects: ['web'] });
    expect((await deployImage({ image: 'nginx' }, { token: webOnly })).status).toBe(202);
  });

  test('retrying an image deployment queues a new pull of the same reference', async () => {
    const dep = (await (await deployImage({ image: 'registry.example.com/team/app:7' })).json()) as { id: string };
    const res = await t.req('POST', `/v1/projects/web/deployments/${dep.id}/retry`);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ trigger: 'retry', image_ref: 'registry.example.com/team/app:7' });
  });
});
