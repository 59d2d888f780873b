import { afterEach, describe, expect, test } from 'bun:test';
import { errorOf, makeTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
afterEach(() => t?.close());

type Page<T> = { data: T[] };

/** Mints a token through the API, as an operator would, and returns its secret. */
async function mint(app: TestApp, body: Record<string, unknown>): Promise<string> {
  const res = await app.req('POST', '/v1/tokens', { body });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

async function createProject(app: TestApp, name: string, token?: string): Promise<void> {
  const res = await app.req('POST', '/v1/projects', { body: { name }, token });
  expect(res.status).toBe(201);
}

async function deleteProject(app: TestApp, name: string): Promise<void> {
  expect((await app.req('DELETE', `/v1/projects/${name}`)).status).toBe(204);
}

describe('tokens limited to a project are bound to its id, not its name', () => {
  test('a project deleted and created again under its name is out of reach of the old tokens', async () => {
    t = makeTestApp();
    await createProject(t, 'web');
    const old = await mint(t, { name: 'old-web-ci', scope: 'deploy', projects: ['web'] });
    expect((await t.req('GET', '/v1/projects/web', { token: old })).status).toBe(200);
    // The first tenant's history, which the next tenant of the name must not see either.
    await t.req('PATCH', '/v1/projects/web/env', { body: { vars: { OLD_TENANT_KEY: 'a' } } });
    await deleteProject(t, 'web');

    // Another tenant gets the name.
    await createProject(t, 'web');
    await t.req('PATCH', '/v1/projects/web/env', { body: { vars: { STRIPE_KEY: 'sk_live_victim' } } });
    const before = await (await t.req('GET', '/v1/projects/web/env?reveal=true')).json();

    const attempts: [string, string, unknown?][] = [
      ['GET', '/v1/projects/web'],
      ['GET', '/v1/projects/web/env'],
      ['PATCH', '/v1/projects/web/env', { vars: { STRIPE_KEY: 'sk_attacker' } }],
      ['DELETE', '/v1/projects/web/env/STRIPE_KEY'],
      ['PATCH', '/v1/projects/web', { instances: 3 }],
      ['GET', '/v1/projects/web/deployments'],
      ['POST', '/v1/projects/web/rollback'],
      ['POST', '/v1/projects/web/stop'],
      ['POST', '/v1/projects/web/database'],
    ];
    for (const [method, path, body] of attempts) {
      const res = await t.req(method, path, { token: old, body });
      const error = await errorOf(res);
      expect({ method, path, status: res.status, code: error.code }).toEqual({
        method,
        path,
        status: 403,
        code: 'forbidden',
      });
      expect(error.message).toBe('Token "old-web-ci" may not access project "web"');
    }

    // The victim is untouched, and the old token sees nothing of it.
    expect(await (await t.req('GET', '/v1/projects/web/env?reveal=true')).json()).toEqual(before);
    expect((await (await t.req('GET', '/v1/projects/web')).json()) as { instances: number }).toMatchObject({
      instances: 1,
      desired_state: 'running',
    });
    const listed = (await (await t.req('GET', '/v1/projects', { token: old })).json()) as Page<unknown>;
    expect(listed.data).toEqual([]);
    const activity = (await (await t.req('GET', '/v1/activity', { token: old })).json()) as Page<unknown>;
    expect(activity.data).toEqual([]);
    expect(await (await t.req('GET', '/v1/me', { token: old })).json()).toMatchObject({ projects: [] });
    // The API still shows names: the old token is limited to no project at all now.
    const tokens = (await (await t.req('GET', '/v1/tokens')).json()) as Page<{ name: string; projects: unknown }>;
    expect(tokens.data.find((x) => x.name === 'old-web-ci')!.projects).toEqual([]);
  });

  test('a token minted for a project that does not exist yet gets it when it is created, and only that one', async () => {
    t = makeTestApp();
    const ci = await mint(t, { name: 'blog-ci', scope: 'deploy', projects: ['blog'] });
    expect(await (await t.req('GET', '/v1/me', { token: ci })).json()).toMatchObject({ projects: ['blog'] });
    // `slipway deploy --yes` with this token creates the project it was minted for.
    await createProject(t, 'blog', ci);
    expect((await t.req('GET', '/v1/projects/blog', { token: ci })).status).toBe(200);
    await deleteProject(t, 'blog');
    await createProject(t, 'blog');
    const res = await t.req('GET', '/v1/projects/blog', { token: ci });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toBe('Token "blog-ci" may not access project "blog"');
  });

  test('a token minted ahead of its project gets it whoever creates it', async () => {
    t = makeTestApp();
    const ci = await mint(t, { name: 'api-ci', scope: 'read', projects: ['api', 'web'] });
    await createProject(t, 'api');
    expect((await t.req('GET', '/v1/projects/api', { token: ci })).status).toBe(200);
    const tokens = (await (await t.req('GET', '/v1/tokens')).json()) as Page<{ name: string; projects: unknown }>;
    expect(tokens.data.find((x) => x.name === 'api-ci')!.projects).toEqual(['api', 'web']);
  });

  test('a token limited to the new project sees only the history since that project was created', async () => {
    t = makeTestApp();
    await createProject(t, 'web');
    await t.req('PATCH', '/v1/projects/web/env', { body: { vars: { OLD_TENANT_KEY: 'a' } } });
    await deleteProject(t, 'web');
    await createProject(t, 'web');
    const fresh = await mint(t, { name: 'new-web', scope: 'read', projects: ['web'] });
    const page = (await (await t.req('GET', '/v1/activity', { token: fresh })).json()) as Page<{
      action: string;
      project: string;
    }>;
    expect(page.data.map((e) => [e.action, e.project])).toEqual([['project.create', 'web']]);
  });
});
