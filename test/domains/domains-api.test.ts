/**
 * /v1/projects/{name}/domains through the app, on a real database, a real route store and a real
 * DNS server: the envelope, access rules, conflicts, the activity log and what the edge is given.
 */
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'bun:test';
import { routeStoreFile } from '../../src/edge/layout.ts';
import { RouteStoreReader } from '../../src/edge/route-store-reader.ts';
import { errorOf, makeTestApp, TEST_ACTOR, type TestApp } from '../helpers/app.ts';
import { startTestDns, type TestDns } from './dns-server.ts';

type Domain = Record<string, unknown> & { hostname: string; status: string; project: string };
type Page = { data: Domain[]; pagination: { next_cursor: string | null; has_more: boolean } };

let dns: TestDns;
let t: TestApp;
let store: RouteStoreReader;

beforeAll(async () => {
  dns = await startTestDns();
  await dns.addA('shop.example.test', ['127.0.0.1']);
  t = makeTestApp({
    SLIPWAY_DNS_SERVERS: dns.server,
    SLIPWAY_PUBLIC_IPS: '127.0.0.1',
    SLIPWAY_BASE_DOMAIN: 'apps.example.test',
    SLIPWAY_API_DOMAIN: 'slipway.example.test',
  });
  for (const name of ['web', 'blog']) t.deps.projects.create(TEST_ACTOR, { name });
  store = new RouteStoreReader(routeStoreFile(t.dir));
});
afterAll(async () => {
  store?.close();
  t?.close();
  await dns?.stop();
});

const hosts = () => store.snapshot()?.hosts ?? [];

async function add(project: string, body: unknown, token?: string): Promise<Response> {
  return t.req('POST', `/v1/projects/${project}/domains`, { body, token });
}

describe('POST /v1/projects/{name}/domains', () => {
  test('adds a normalised host name, routes it at once and answers 201 with the domain object', async () => {
    const res = await add('web', { hostname: '  Shop.Example.TEST. ' });
    expect(res.status).toBe(201);
    const d = (await res.json()) as Domain;
    expect(d).toEqual({
      id: expect.stringMatching(/^dom_[0-9a-z]{26}$/),
      hostname: 'shop.example.test',
      project: 'web',
      redirect_to_https: true,
      hsts: false,
      status: 'verified',
      reason: expect.stringMatching(/^No certificate is ordered: /),
      next_attempt_at: expect.any(String),
      dns_records: [
        {
          type: 'A',
          name: 'shop.example.test',
          value: '127.0.0.1',
          description: 'an A record for shop.example.test pointing to 127.0.0.1',
        },
      ],
      last_check: { at: expect.any(String), method: 'dns', addresses: ['127.0.0.1'], message: 'points to 127.0.0.1' },
      certificate: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(hosts()).toEqual([{ hostname: 'shop.example.test', project: 'web', redirectToHttps: true, hsts: false }]);
  });

  test('takes the options, converts a Unicode name to punycode and leaves it pending while DNS is missing', async () => {
    const res = await add('web', { hostname: 'Bücher.example.test', redirect_to_https: false, hsts: true });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      hostname: 'xn--bcher-kva.example.test',
      redirect_to_https: false,
      hsts: true,
      status: 'pending_dns',
      reason:
        'No A, AAAA or CNAME record found for xn--bcher-kva.example.test: create an A record for xn--bcher-kva.example.test pointing to 127.0.0.1',
    });
    expect(hosts()).toContainEqual({
      hostname: 'xn--bcher-kva.example.test',
      project: 'web',
      redirectToHttps: false,
      hsts: true,
    });
  });

  test.each([
    ['203.0.113.7', 'An IP address is not a host name: point a host name at this server and add that'],
    ['intranet', 'A host name needs at least two labels, such as shop.example.com'],
    ['*.example.test', 'Wildcards are not supported: add each host name on its own'],
    [
      'web.apps.example.test',
      "Names under the base domain apps.example.test are the projects' own (<project>.apps.example.test)",
    ],
    ['apps.example.test', 'It is the base domain (SLIPWAY_BASE_DOMAIN), under which projects get their own names'],
    ['slipway.example.test', "It is the agent's API domain (SLIPWAY_API_DOMAIN)"],
    ['app.localhost', 'Localhost and its subdomains only ever reach the machine that asks'],
    [
      `${'a'.repeat(64)}.example.test`,
      `The label "${'a'.repeat(64)}" is not 1 to 63 letters, digits and dashes, starting and ending with a letter or digit`,
    ],
  ])('refuses %p with 422 in the error envelope', async (hostname, message) => {
    const res = await add('web', { hostname });
    expect(res.status).toBe(422);
    const error = await errorOf(res);
    expect(error).toMatchObject({ code: 'validation_error', issues: [{ path: '/hostname', message }] });
    expect(error.message).toStartWith(`Cannot add "${hostname}": `);
  });

  test('refuses unknown fields and a missing host name with 422', async () => {
    for (const body of [{ hostname: 'x.example.test', tls: true }, {}, { hostname: 'x.example.test', hsts: 'yes' }]) {
      const res = await add('web', body);
      expect(res.status).toBe(422);
      expect((await errorOf(res)).code).toBe('validation_error');
    }
  });

  test('a host name belongs to one project: 409 in the same project and across projects', async () => {
    const again = await add('web', { hostname: 'SHOP.example.test' });
    expect(again.status).toBe(409);
    expect(await errorOf(again)).toMatchObject({
      code: 'conflict',
      message: 'Cannot add "shop.example.test": project "web" already has it',
    });
    const blogOnly = t.token({ name: 'blog-deployer', scope: 'deploy', projects: ['blog'] });
    const other = await add('blog', { hostname: 'shop.example.test' }, blogOnly);
    expect(other.status).toBe(409);
    const message = (await errorOf(other)).message;
    expect(message).toBe('Cannot add "shop.example.test": the host name is taken by another project');
    expect(message).not.toContain('web');
    // Nor can it learn anything through the other routes: web's domain is not blog's.
    for (const [method, path] of [
      ['GET', '/v1/projects/blog/domains/shop.example.test'],
      ['PATCH', '/v1/projects/blog/domains/shop.example.test'],
      ['DELETE', '/v1/projects/blog/domains/shop.example.test'],
      ['POST', '/v1/projects/blog/domains/shop.example.test/verify'],
    ] as const) {
      const res = await t.req(method, path, { token: blogOnly, body: method === 'PATCH' ? { hsts: true } : undefined });
      expect({ method, status: res.status }).toEqual({ method, status: 404 });
      expect((await errorOf(res)).message).toBe('No domain "shop.example.test" in project "blog"');
    }
    expect(hosts().find((h) => h.hostname === 'shop.example.test')?.project).toBe('web');
  });

  test('an unknown project answers 404', async () => {
    const res = await add('ghost', { hostname: 'ghost.example.test' });
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: 'not_found', message: 'No project named "ghost"' });
  });
});

describe('access', () => {
  test('reading needs read scope, changing needs deploy scope', async () => {
    const reader = t.token({ name: 'reader', scope: 'read' });
    expect((await t.req('GET', '/v1/projects/web/domains', { token: reader })).status).toBe(200);
    expect((await t.req('GET', '/v1/projects/web/domains/shop.example.test', { token: reader })).status).toBe(200);
    for (const [method, path, body] of [
      ['POST', '/v1/projects/web/domains', { hostname: 'r.example.test' }],
      ['PATCH', '/v1/projects/web/domains/shop.example.test', { hsts: true }],
      ['DELETE', '/v1/projects/web/domains/shop.example.test', undefined],
      ['POST', '/v1/projects/web/domains/shop.example.test/verify', undefined],
    ] as const) {
      const res = await t.req(method, path, { token: reader, body });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
      expect((await errorOf(res)).message).toBe('Token "reader" has scope "read"; this needs "deploy"');
    }
    expect((await t.req('GET', '/v1/projects/web/domains', { token: null })).status).toBe(401);
  });

  test("a project-limited token may not touch another project's domains", async () => {
    const blogOnly = t.token({ name: 'blog-only', scope: 'deploy', projects: ['blog'] });
    const res = await t.req('GET', '/v1/projects/web/domains', { token: blogOnly });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toBe('Token "blog-only" may not access project "web"');
    expect((await add('web', { hostname: 'sneaky.example.test' }, blogOnly)).status).toBe(403);
    expect((await add('blog', { hostname: 'blog.blog.test' }, blogOnly)).status).toBe(201);
  });
});

describe('reading, changing and removing', () => {
  test('lists by host name in the list envelope, keyset-paginated', async () => {
    const all = (await (await t.req('GET', '/v1/projects/web/domains')).json()) as Page;
    expect(all.data.map((d) => d.hostname)).toEqual(['shop.example.test', 'xn--bcher-kva.example.test']);
    expect(all.pagination).toEqual({ next_cursor: null, has_more: false });
    const first = (await (await t.req('GET', '/v1/projects/web/domains?limit=1')).json()) as Page;
    expect(first.data.map((d) => d.hostname)).toEqual(['shop.example.test']);
    expect(first.pagination.has_more).toBe(true);
    const next = (await (
      await t.req('GET', `/v1/projects/web/domains?limit=1&cursor=${first.pagination.next_cursor}`)
    ).json()) as Page;
    expect(next.data.map((d) => d.hostname)).toEqual(['xn--bcher-kva.example.test']);
    expect(next.pagination).toEqual({ next_cursor: null, has_more: false });
    const foreign = await t.req('GET', `/v1/projects/blog/domains?cursor=${first.pagination.next_cursor}`);
    expect(foreign.status).toBe(400);
  });

  test('GET finds a domain by any spelling of its name', async () => {
    for (const name of ['SHOP.example.test', 'shop.example.test.']) {
      const res = await t.req('GET', `/v1/projects/web/domains/${name}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as Domain).hostname).toBe('shop.example.test');
    }
    const missing = await t.req('GET', '/v1/projects/web/domains/none.example.test');
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).message).toBe('No domain "none.example.test" in project "web"');
    expect((await t.req('GET', '/v1/projects/web/domains/Bücher.example.test')).status).toBe(200);
  });

  test('PATCH changes the options and the edge follows; an unchanged PATCH records nothing', async () => {
    const res = await t.req('PATCH', '/v1/projects/web/domains/shop.example.test', {
      body: { redirect_to_https: false, hsts: true },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ redirect_to_https: false, hsts: true, status: 'verified' });
    expect(hosts()).toContainEqual({
      hostname: 'shop.example.test',
      project: 'web',
      redirectToHttps: false,
      hsts: true,
    });
    const same = await t.req('PATCH', '/v1/projects/web/domains/shop.example.test', { body: { hsts: true } });
    expect(((await same.json()) as Domain).redirect_to_https).toBe(false);
    const bad = await t.req('PATCH', '/v1/projects/web/domains/shop.example.test', { body: { hostname: 'x.test' } });
    expect(bad.status).toBe(422);
  });

  test('verify runs the checks now; two at once share one check', async () => {
    const [a, b] = await Promise.all([
      t.req('POST', '/v1/projects/web/domains/shop.example.test/verify'),
      t.req('POST', '/v1/projects/web/domains/shop.example.test/verify'),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const [da, db] = (await Promise.all([a.json(), b.json()])) as Domain[];
    expect(da!.status).toBe('verified');
    expect((da!.last_check as { at: string }).at).toBe((db!.last_check as { at: string }).at);
  });

  test('DELETE answers 204, the edge stops routing the name and it can be added again elsewhere', async () => {
    const res = await t.req('DELETE', '/v1/projects/web/domains/xn--bcher-kva.example.test');
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(hosts().map((h) => h.hostname)).not.toContain('xn--bcher-kva.example.test');
    expect((await t.req('GET', '/v1/projects/web/domains/xn--bcher-kva.example.test')).status).toBe(404);
    expect((await t.req('DELETE', '/v1/projects/web/domains/xn--bcher-kva.example.test')).status).toBe(404);
    expect((await add('blog', { hostname: 'bücher.example.test' })).status).toBe(201);
    expect(store.snapshot()!.challenges).toEqual([]);
  });

  test('every change is in the activity log with its token', async () => {
    const res = await t.req('GET', '/v1/activity?action=domain&limit=100');
    const rows = (
      (await res.json()) as {
        data: { action: string; target: string; project: string; changes: unknown; token: { name: string } }[];
      }
    ).data.reverse();
    const summary = rows.map((r) => `${r.action} ${r.target} ${r.project} ${r.token.name}`);
    expect(summary).toEqual([
      'domain.add shop.example.test web admin',
      'domain.add xn--bcher-kva.example.test web admin',
      'domain.add blog.blog.test blog blog-only',
      'domain.update shop.example.test web admin',
      'domain.verify shop.example.test web admin',
      'domain.verify shop.example.test web admin',
      'domain.remove xn--bcher-kva.example.test web admin',
      'domain.add xn--bcher-kva.example.test blog admin',
    ]);
    expect(rows[0]!.changes).toEqual({ redirect_to_https: true, hsts: false, ownership_proof: false });
    expect(rows[2]!.changes).toEqual({ redirect_to_https: true, hsts: false, ownership_proof: true });
    expect(rows[3]!.changes).toEqual({ redirect_to_https: { from: true, to: false }, hsts: { from: false, to: true } });
    expect(rows[4]!.changes).toEqual({ status: { from: 'verified', to: 'verified' }, found: 'points to 127.0.0.1' });
  });

  test('publishAll writes every routable domain beside the routes, so a store that missed a change is repaired', () => {
    t.deps.edge.removeHost('shop.example.test');
    t.deps.edge.publishAll();
    // blog.blog.test, added by a deploy token, has not proven its ownership: it is not routed.
    expect(hosts().map((h) => `${h.hostname} ${h.project}`)).toEqual([
      'shop.example.test web',
      'xn--bcher-kva.example.test blog',
    ]);
  });

  test('deleting a project removes its domains from the edge and the database, each recorded', async () => {
    const res = await t.req('DELETE', '/v1/projects/blog');
    expect(res.status).toBe(204);
    expect(hosts().map((h) => h.hostname)).toEqual(['shop.example.test']);
    expect(t.deps.db.prepare('SELECT hostname FROM domains').all()).toEqual([{ hostname: 'shop.example.test' }]);
    const log = (await (await t.req('GET', '/v1/activity?action=domain.remove&project=blog')).json()) as {
      data: { target: string; changes: unknown }[];
    };
    expect(log.data.map((r) => r.target).sort()).toEqual(['blog.blog.test', 'xn--bcher-kva.example.test']);
    expect(log.data[0]!.changes).toEqual({ because: 'project "blog" deleted' });
  });
});

describe('the OpenAPI document', () => {
  test('has every domain route with its access rule, schemas and examples', async () => {
    const spec = (await (await t.req('GET', '/v1/openapi.json', { token: null })).json()) as {
      paths: Record<
        string,
        Record<string, { tags: string[]; 'x-slipway-access': unknown; responses: Record<string, unknown> }>
      >;
    };
    const base = '/v1/projects/{name}/domains';
    const ops = {
      [`${base}`]: { post: 'deploy', get: 'read' },
      [`${base}/{hostname}`]: { get: 'read', patch: 'deploy', delete: 'deploy' },
      [`${base}/{hostname}/verify`]: { post: 'deploy' },
    };
    for (const [path, methods] of Object.entries(ops))
      for (const [method, scope] of Object.entries(methods)) {
        const op = spec.paths[path]?.[method];
        expect({ path, method, tags: op?.tags, access: op?.['x-slipway-access'] }).toEqual({
          path,
          method,
          tags: ['Domains'],
          access: { scope, project: 'param' },
        });
      }
    const created = JSON.stringify(spec.paths[base]!.post!.responses['201']);
    expect(created).toContain('an A record for shop.example.com pointing to 203.0.113.7');
    expect(created).toContain('pending_dns');
  });
});

describe('one tenant per registered domain', () => {
  test("a deploy token may not take a name under another project's registered domain; an admin may", async () => {
    const t = makeTestApp({ SLIPWAY_DNS_SERVERS: dns.server, SLIPWAY_PUBLIC_IPS: '127.0.0.1' });
    onTestFinished(() => t.close());
    for (const name of ['web', 'blog']) t.deps.projects.create(TEST_ACTOR, { name });
    const add = (project: string, body: unknown, token?: string) =>
      t.req('POST', `/v1/projects/${project}/domains`, { body, token });
    expect((await add('web', { hostname: 'shop.example.test' })).status).toBe(201);
    const blogOnly = t.token({ name: 'blog-squatter', scope: 'deploy', projects: ['blog'] });
    const sibling = await add('blog', { hostname: 'api.shop.example.test' }, blogOnly);
    expect(sibling.status).toBe(409);
    expect(await errorOf(sibling)).toMatchObject({
      code: 'conflict',
      message:
        'Cannot add "api.shop.example.test": another project uses names under example.test; an admin token may add it',
    });
    // Names under other registered domains are free, and the owner's own project may add more under its own.
    expect((await add('blog', { hostname: 'blog.other-example.test' }, blogOnly)).status).toBe(201);
    expect((await add('web', { hostname: 'www.shop.example.test' })).status).toBe(201);
    // An admin decides that both projects share example.test.
    expect((await add('blog', { hostname: 'api.shop.example.test' })).status).toBe(201);
  });
});

describe('ownership proof of names added by a non-admin token', () => {
  test('a name pointing here is not routed until its TXT record is there, and leaves the edge when it goes', async () => {
    const t = makeTestApp({ SLIPWAY_DNS_SERVERS: dns.server, SLIPWAY_PUBLIC_IPS: '127.0.0.1' });
    const store = new RouteStoreReader(routeStoreFile(t.dir));
    onTestFinished(() => {
      store.close();
      t.close();
    });
    t.deps.projects.create(TEST_ACTOR, { name: 'mallory' });
    const deployer = t.token({ name: 'mallory-deploy', scope: 'deploy', projects: ['mallory'] });
    const routed = () => (store.snapshot()?.hosts ?? []).map((h) => h.hostname);
    const res = await t.req('POST', '/v1/projects/mallory/domains', {
      body: { hostname: 'shop.example.test' },
      token: deployer,
    });
    expect(res.status).toBe(201);
    const d = (await res.json()) as Domain & {
      dns_records: { type: string; name: string; value: string; description: string }[];
    };
    const txt = d.dns_records.find((r) => r.type === 'TXT')!;
    const token = txt.value.replace('slipway-verification=', '');
    expect(token).toMatch(/^[0-9a-z]{32}$/);
    expect(d.dns_records).toEqual([
      {
        type: 'A',
        name: 'shop.example.test',
        value: '127.0.0.1',
        description: 'an A record for shop.example.test pointing to 127.0.0.1',
      },
      {
        type: 'TXT',
        name: '_slipway-challenge.shop.example.test',
        value: `slipway-verification=${token}`,
        description: `a TXT record for _slipway-challenge.shop.example.test with the value slipway-verification=${token}`,
      },
    ]);
    expect(d).toMatchObject({
      status: 'pending_dns',
      reason: `shop.example.test points to this server, but its ownership is not proven: create a TXT record for _slipway-challenge.shop.example.test with the value slipway-verification=${token}`,
      last_check: { message: 'points to 127.0.0.1; no ownership TXT record at _slipway-challenge.shop.example.test' },
    });
    expect(routed()).toEqual([]);

    await dns.setTxt('_slipway-challenge.shop.example.test', 'slipway-verification=someone-elses-token');
    const wrong = await t.req('POST', '/v1/projects/mallory/domains/shop.example.test/verify', { token: deployer });
    expect(((await wrong.json()) as Domain).status).toBe('pending_dns');
    expect(routed()).toEqual([]);

    await dns.setTxt('_slipway-challenge.shop.example.test', `slipway-verification=${token}`);
    try {
      const proven = await t.req('POST', '/v1/projects/mallory/domains/shop.example.test/verify', { token: deployer });
      expect(await proven.json()).toMatchObject({ status: 'verified', last_check: { message: 'points to 127.0.0.1' } });
      expect(routed()).toEqual(['shop.example.test']);
    } finally {
      await dns.clearTxt('_slipway-challenge.shop.example.test');
    }
    const gone = await t.req('POST', '/v1/projects/mallory/domains/shop.example.test/verify', { token: deployer });
    expect(((await gone.json()) as Domain).status).toBe('pending_dns');
    expect(routed()).toEqual([]);
    // A PATCH of an unproven domain does not route it either.
    await t.req('PATCH', '/v1/projects/mallory/domains/shop.example.test', { body: { hsts: true }, token: deployer });
    expect(routed()).toEqual([]);
  });

  test('a name pointing elsewhere and without its TXT record says both are missing', async () => {
    const t = makeTestApp({ SLIPWAY_DNS_SERVERS: dns.server, SLIPWAY_PUBLIC_IPS: '203.0.113.7' });
    onTestFinished(() => t.close());
    t.deps.projects.create(TEST_ACTOR, { name: 'web' });
    const deployer = t.token({ name: 'deploy', scope: 'deploy' });
    const res = await t.req('POST', '/v1/projects/web/domains', {
      body: { hostname: 'nowhere.example.test' },
      token: deployer,
    });
    const d = (await res.json()) as Domain & { reason: string };
    expect(d.status).toBe('pending_dns');
    expect(d.reason).toStartWith('No A, AAAA or CNAME record found for nowhere.example.test: create an A record');
    expect(d.reason).toEndWith(
      '; and its ownership is not proven: create a TXT record for _slipway-challenge.nowhere.example.test with the value slipway-verification=' +
        (d.dns_records as { value: string }[])[1]!.value.replace('slipway-verification=', ''),
    );
  });
});

describe("the agent's registered domains", () => {
  test('a non-admin token may not add names under the registered domain of the base or API domain; an admin may', async () => {
    const t = makeTestApp({
      SLIPWAY_DNS_SERVERS: dns.server,
      SLIPWAY_PUBLIC_IPS: '127.0.0.1',
      SLIPWAY_BASE_DOMAIN: 'apps.platform.test',
      SLIPWAY_API_DOMAIN: 'slipway.control.test',
    });
    onTestFinished(() => t.close());
    t.deps.projects.create(TEST_ACTOR, { name: 'web' });
    const deployer = t.token({ name: 'deploy', scope: 'deploy' });
    for (const [hostname, registered] of [
      ['shop.platform.test', 'platform.test'],
      ['api.control.test', 'control.test'],
    ] as const) {
      const res = await t.req('POST', '/v1/projects/web/domains', { body: { hostname }, token: deployer });
      expect(res.status).toBe(409);
      expect(await errorOf(res)).toMatchObject({
        code: 'conflict',
        message: `Cannot add "${hostname}": names under ${registered} are reserved for the agent's own names; an admin token may add it`,
      });
      expect((await t.req('POST', '/v1/projects/web/domains', { body: { hostname } })).status).toBe(201);
    }
  });

  test('an unproven claim cannot keep a name from its owner: it lapses after a week, and an admin may release it', async () => {
    const t = makeTestApp({ SLIPWAY_DNS_SERVERS: dns.server, SLIPWAY_PUBLIC_IPS: '127.0.0.1' });
    onTestFinished(() => t.close());
    for (const name of ['web', 'blog', 'shop']) t.deps.projects.create(TEST_ACTOR, { name });
    const add = (project: string, hostname: string, token?: string) =>
      t.req('POST', `/v1/projects/${project}/domains`, { body: { hostname }, token });
    const blogOnly = t.token({ name: 'blog-squatter', scope: 'deploy', projects: ['blog'] });
    const webOnly = t.token({ name: 'web-owner', scope: 'deploy', projects: ['web'] });
    const shopOnly = t.token({ name: 'shop-owner', scope: 'deploy', projects: ['shop'] });
    // blog claims a name it cannot prove (no TXT record): it is not routed, and not yet free.
    const claimed = await add('blog', 'claimed.example.test', blogOnly);
    expect(((await claimed.json()) as { status: string }).status).toBe('pending_dns');
    const early = await add('web', 'claimed.example.test', webOnly);
    expect(early.status).toBe(409);
    const message = (await errorOf(early)).message;
    expect(message).toMatch(
      /^Cannot add "claimed\.example\.test": another project claimed it without proving it yet; the claim lapses at \d{4}-\d\d-\d\dT[\d:.]+Z \(an admin token may release it now\)$/,
    );
    expect(message).not.toContain('blog');
    // A week later the claim has lapsed: the owner's add removes it, recorded for blog.
    t.deps.db
      .prepare("UPDATE domains SET created_at = '2020-01-01T00:00:00.000Z' WHERE hostname = ?")
      .run('claimed.example.test');
    expect((await add('web', 'claimed.example.test', webOnly)).status).toBe(201);
    const removed = t.deps.db
      .prepare("SELECT project, changes FROM activity WHERE action = 'domain.remove' AND target = ?")
      .all('claimed.example.test');
    expect(removed).toEqual([{ project: 'blog', changes: JSON.stringify({ reason: 'an unproven claim lapsed' }) }]);
    // An admin releases an unproven claim at once.
    expect((await add('blog', 'second.example2.test', blogOnly)).status).toBe(201);
    expect((await add('web', 'second.example2.test')).status).toBe(201);
    // A name that once passed its checks is never released, even while its DNS is broken.
    expect((await add('blog', 'kept.example3.test', blogOnly)).status).toBe(201);
    t.deps.db
      .prepare(
        "UPDATE domains SET proven_at = '2020-01-02T00:00:00.000Z', created_at = '2020-01-01T00:00:00.000Z' WHERE hostname = ?",
      )
      .run('kept.example3.test');
    const kept = await add('shop', 'kept.example3.test', shopOnly);
    expect(kept.status).toBe(409);
    expect((await errorOf(kept)).message).toBe(
      'Cannot add "kept.example3.test": the host name is taken by another project',
    );
  });
});
