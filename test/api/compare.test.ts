import { afterAll, describe, expect, test } from 'bun:test';
import { errorOf, makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { tgzOf, type TestEntry } from '../helpers/archives.ts';

// The worker is not started here: deployments stay queued with their stored sources and settings.
const t = makeTestApp({ SLIPWAY_SOURCE_RETENTION: '3' });
const web = t.deps.projects.create(TEST_ACTOR, { name: 'web' });
t.deps.projects.create(TEST_ACTOR, { name: 'blog' });
afterAll(() => t.close());

type Dep = { id: string; number: number };

async function upload(entries: TestEntry[], project = 'web'): Promise<Dep> {
  const res = await t.app.handle(
    new Request(`http://localhost/v1/projects/${project}/deployments`, {
      method: 'POST',
      body: tgzOf(entries),
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/gzip' },
    }),
  );
  expect(res.status).toBe(202);
  return (await res.json()) as Dep;
}

/** Seals `env` as the deployment's snapshot, as a release does when it starts the deployment. */
function recordEnv(dep: Dep, env: Record<string, string>): void {
  t.deps.deploymentRepo.update(dep.id, { env_snapshot: t.deps.env.sealSnapshot(web.id, env) });
}

const compare = (from: string | number, to: string | number, token?: string) =>
  t.req('GET', `/v1/projects/web/deployments/compare?from=${from}&to=${to}`, { token });

const v1 = await upload([
  { name: 'index.html', body: 'one' },
  { name: 'old.css', body: 'x' },
  { name: 'lib/same.js', body: 'same' },
  { name: 'run.sh', body: 'echo', mode: 0o644 },
  { name: 'link', type: 'symlink', linkname: 'index.html' },
]);
await t.req('PATCH', '/v1/projects/web', { body: { memory_mb: 1024, health_check_path: '/up' } });
const v2 = await upload([
  { name: 'index.html', body: 'two' },
  { name: 'lib/same.js', body: 'same' },
  { name: 'lib/new.js', body: 'new' },
  { name: 'run.sh', body: 'echo', mode: 0o755 },
  { name: 'link', type: 'symlink', linkname: 'lib/same.js' },
]);
const SECRET = 'value-that-must-not-leak';
recordEnv(v1, { KEEP: 'same', ROTATED: SECRET, GONE: 'x' });
recordEnv(v2, { KEEP: 'same', ROTATED: `${SECRET}-new`, ADDED: 'y' });

describe('GET /v1/projects/{name}/deployments/compare', () => {
  test('lists the files added, removed and changed, counting content, link targets and the executable bit', async () => {
    const res = await compare(1, 2);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.from).toMatchObject({ id: v1.id, number: 1 });
    expect(body.to).toMatchObject({ id: v2.id, number: 2 });
    expect(body.source).toEqual({
      available: true,
      added: ['lib/new.js'],
      removed: ['old.css'],
      changed: ['index.html', 'link', 'run.sh'],
      unchanged: 1,
    });
  });

  test('names the env keys added, removed and changed, never a value', async () => {
    const res = await compare(v1.id, v2.id);
    const text = await res.text();
    expect(JSON.parse(text).env).toEqual({
      available: true,
      added: ['ADDED'],
      removed: ['GONE'],
      changed: ['ROTATED'],
    });
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('same');
  });

  test('shows the settings each deployment was queued with that differ', async () => {
    const body = (await (await compare(1, 2)).json()) as { settings: unknown };
    expect(body.settings).toEqual({
      available: true,
      changed: [
        { name: 'health_check_path', from: '/', to: '/up' },
        { name: 'memory_mb', from: 512, to: 1024 },
      ],
    });
  });

  test('compares images: a pulled one by digest, and says which part cannot be compared', async () => {
    t.deps.deploymentRepo.update(v1.id, { image_id: 'sha256:1', image_tag: 'slipway/web:1-a' });
    const pulled = (await (
      await t.req('POST', '/v1/projects/web/deployments', { body: { image: 'registry.example.com/app:2' } })
    ).json()) as Dep;
    const digest = `sha256:${'c'.repeat(64)}`;
    t.deps.deploymentRepo.update(pulled.id, {
      image_id: 'sha256:2',
      image_tag: 'slipway/web:3-b',
      image_digest: digest,
    });
    const body = (await (await compare(1, 3)).json()) as Record<string, Record<string, unknown>>;
    expect(body.image).toEqual({
      changed: true,
      from: { ref: null, digest: null, tag: 'slipway/web:1-a', id: 'sha256:1', stack: null, exposed_port: null },
      to: {
        ref: 'registry.example.com/app:2',
        digest,
        tag: 'slipway/web:3-b',
        id: 'sha256:2',
        stack: null,
        exposed_port: null,
      },
    });
    expect(body.source).toEqual({
      available: false,
      reason: '#3 deployed the prebuilt image registry.example.com/app:2, which has no source',
    });
    expect(body.env).toEqual({ available: false, reason: '#3 never started, so it has no recorded env' });
  });

  test('a deployment compared with itself shows no change', async () => {
    const body = (await (await compare(2, 2)).json()) as Record<string, Record<string, unknown>>;
    expect(body.source).toMatchObject({ added: [], removed: [], changed: [], unchanged: 5 });
    expect(body.settings).toEqual({ available: true, changed: [] });
  });

  test('answers 404 for a deployment of another project and 422 for a malformed reference', async () => {
    const other = await upload([{ name: 'index.html', body: 'blog' }], 'blog');
    const res = await compare(1, other.id);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toBe(`No deployment "${other.id}" in project "web"`);
    expect((await compare(1, 99)).status).toBe(404);
    const bad = await compare('../etc', 2);
    expect(bad.status).toBe(422);
    expect((await errorOf(bad)).message).toContain('expected a deployment id (dep_…) or number');
    expect((await t.req('GET', '/v1/projects/web/deployments/compare?from=1')).status).toBe(422);
  });

  test('a read token of the project may compare; one limited to another project may not', async () => {
    expect((await compare(1, 2, t.token({ name: 'r', scope: 'read', projects: ['web'] }))).status).toBe(200);
    expect((await compare(1, 2, t.token({ name: 'b', scope: 'read', projects: ['blog'] }))).status).toBe(403);
  });
});
