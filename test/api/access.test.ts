import { describe, expect, test } from 'bun:test';
import { ACCESS_EXTENSION, type AccessRule } from '../../src/api/access.ts';
import { DOC_PLUGIN_ROUTES } from '../../src/api/docs/routes.ts';
import { assertEveryRouteHasAccess } from '../../src/app.ts';
import { makeTestApp, TEST_ACTOR, type TestApp } from '../helpers/app.ts';

/**
 * The expected access rule of every route, written out independently of the routes
 * themselves. A route added without an entry here fails this test, and so does a route
 * whose declared rule drifts from this table.
 */
const EXPECTED: Record<string, { rule: AccessRule; body?: unknown }> = {
  'GET /docs/assets/scalar.js': { rule: 'public' },
  'GET /v1/health': { rule: 'public' },
  'GET /v1/me': { rule: { scope: 'read', project: 'filter' } },
  'POST /v1/tokens': { rule: { scope: 'admin' }, body: { name: 'walk', scope: 'read' } },
  'GET /v1/tokens': { rule: { scope: 'admin' } },
  'DELETE /v1/tokens/:id': { rule: { scope: 'admin' } },
  'POST /v1/registries': { rule: { scope: 'admin' }, body: { host: 'r.example', username: 'u', password: 'p' } },
  'GET /v1/registries': { rule: { scope: 'admin' } },
  'GET /v1/registries/:host': { rule: { scope: 'admin' } },
  'DELETE /v1/registries/:host': { rule: { scope: 'admin' } },
  'POST /v1/projects': { rule: { scope: 'deploy', project: 'body' }, body: { name: 'web' } },
  'GET /v1/projects': { rule: { scope: 'read', project: 'filter' } },
  'GET /v1/projects/:name': { rule: { scope: 'read', project: 'param' } },
  'PATCH /v1/projects/:name': { rule: { scope: 'deploy', project: 'param' }, body: { instances: 2 } },
  'DELETE /v1/projects/:name': { rule: { scope: 'admin', project: 'param' } },
  'PUT /v1/projects/:name/quota': { rule: { scope: 'admin', project: 'param' }, body: { instances: 3 } },
  'GET /v1/activity': { rule: { scope: 'read', project: 'filter' } },
  'POST /v1/projects/:name/deployments': { rule: { scope: 'deploy', project: 'param' } },
  'GET /v1/projects/:name/deployments': { rule: { scope: 'read', project: 'param' } },
  'GET /v1/projects/:name/deployments/:id': { rule: { scope: 'read', project: 'param' } },
  'GET /v1/projects/:name/deployments/compare': { rule: { scope: 'read', project: 'param' } },
  'GET /v1/projects/:name/deployments/:id/logs': { rule: { scope: 'read', project: 'param' } },
  'POST /v1/projects/:name/deployments/:id/cancel': { rule: { scope: 'deploy', project: 'param' } },
  'POST /v1/projects/:name/deployments/:id/retry': { rule: { scope: 'deploy', project: 'param' } },
  'POST /v1/projects/:name/stop': { rule: { scope: 'deploy', project: 'param' } },
  'POST /v1/projects/:name/start': { rule: { scope: 'deploy', project: 'param' } },
  'POST /v1/projects/:name/restart': { rule: { scope: 'deploy', project: 'param' } },
  'POST /v1/projects/:name/scale': { rule: { scope: 'deploy', project: 'param' }, body: { instances: 2 } },
  'POST /v1/projects/:name/rollback': { rule: { scope: 'deploy', project: 'param' } },
  'GET /v1/projects/:name/env': {
    rule: { scope: 'read', project: 'param', elevated: { query: 'reveal', scope: 'admin' } },
  },
  'PATCH /v1/projects/:name/env': { rule: { scope: 'deploy', project: 'param' }, body: { vars: { A: '1' } } },
  'DELETE /v1/projects/:name/env/:key': { rule: { scope: 'deploy', project: 'param' } },
  'GET /v1/projects/:name/logs': { rule: { scope: 'read', project: 'param' } },
  'GET /v1/projects/:name/metrics': { rule: { scope: 'read', project: 'param' } },
  'GET /metrics': { rule: { scope: 'admin' } },
  'POST /v1/projects/:name/database': { rule: { scope: 'deploy', project: 'param' } },
  'GET /v1/projects/:name/database': { rule: { scope: 'read', project: 'param' } },
  'DELETE /v1/projects/:name/database': { rule: { scope: 'admin', project: 'param' } },
  'GET /v1/projects/:name/database/dump': { rule: { scope: 'admin', project: 'param' } },
  'POST /v1/projects/:name/database/restore': { rule: { scope: 'admin', project: 'param' } },
  'GET /v1/projects/:name/volumes': { rule: { scope: 'read', project: 'param' } },
  'POST /v1/backups': { rule: { scope: 'admin' }, body: { destination: 's3' } },
  'GET /v1/backups': { rule: { scope: 'admin' } },
  'GET /v1/backups/:id': { rule: { scope: 'admin' } },
  'POST /v1/backups/:id/verify': { rule: { scope: 'admin' } },
  'GET /v1/projects/:name/volumes/:volume/archive': { rule: { scope: 'admin', project: 'param' } },
  'PUT /v1/projects/:name/volumes/:volume/archive': { rule: { scope: 'admin', project: 'param' } },
  'DELETE /v1/projects/:name/volumes/:volume': { rule: { scope: 'admin', project: 'param' } },
  'POST /v1/projects/:name/domains': {
    rule: { scope: 'deploy', project: 'param' },
    body: { hostname: 'walk.example.test' },
  },
  'GET /v1/projects/:name/domains': { rule: { scope: 'read', project: 'param' } },
  'GET /v1/projects/:name/domains/:hostname': { rule: { scope: 'read', project: 'param' } },
  'PATCH /v1/projects/:name/domains/:hostname': { rule: { scope: 'deploy', project: 'param' }, body: { hsts: true } },
  'DELETE /v1/projects/:name/domains/:hostname': { rule: { scope: 'deploy', project: 'param' } },
  'POST /v1/projects/:name/domains/:hostname/verify': { rule: { scope: 'deploy', project: 'param' } },
  'GET /v1/certificates': { rule: { scope: 'read', project: 'filter' } },
  'GET /v1/certificates/base-domain': { rule: { scope: 'admin' } },
  'PUT /v1/certificates/base-domain': { rule: { scope: 'admin' }, body: { certificate: 'x', private_key: 'y' } },
  'DELETE /v1/certificates/base-domain': { rule: { scope: 'admin' } },
  'PUT /v1/projects/:name/domains/:hostname/certificate': {
    rule: { scope: 'deploy', project: 'param' },
    body: { certificate: 'x', private_key: 'y' },
  },
  'DELETE /v1/projects/:name/domains/:hostname/certificate': { rule: { scope: 'deploy', project: 'param' } },
  'POST /v1/projects/:name/domains/:hostname/certificate/renew': { rule: { scope: 'deploy', project: 'param' } },
  'POST /v1/webhooks': { rule: { scope: 'admin' }, body: { url: 'http://127.0.0.1:9/', events: ['backup.done'] } },
  'GET /v1/webhooks': { rule: { scope: 'admin' } },
  'GET /v1/webhooks/:id': { rule: { scope: 'admin' } },
  'DELETE /v1/webhooks/:id': { rule: { scope: 'admin' } },
  'GET /v1/webhooks/:id/deliveries': { rule: { scope: 'admin' } },
  'GET /v1/webhooks/:id/deliveries/:delivery': { rule: { scope: 'admin' } },
  'POST /v1/webhooks/:id/deliveries/:delivery/redeliver': { rule: { scope: 'admin' } },
  'GET /v1/ops/dead-letter': { rule: { scope: 'read', project: 'filter' } },
  'POST /v1/ops/dead-letter/:kind/:id/retry': { rule: { scope: 'deploy', project: 'filter' } },
  'GET /console/assets/app.js': { rule: 'public' },
  'GET /console/assets/app.css': { rule: 'public' },
  'GET /console': { rule: 'public' },
  'GET /console/*': { rule: 'public' },
  'POST /v1/sessions': { rule: 'public', body: {} },
  'DELETE /v1/sessions/current': { rule: { scope: 'read', project: 'filter' } },
  'GET /v1/overview': { rule: { scope: 'read', project: 'filter' } },
  'GET /v1/projects/:name/exec': { rule: { scope: 'admin', project: 'param' } },
  'GET /llms.txt': { rule: 'public' },
  'GET /v1/nodes': { rule: { scope: 'read', project: 'filter' } },
};

type Caller = 'none' | 'read' | 'deploy' | 'admin' | 'other-project';
const CALLERS: Caller[] = ['none', 'read', 'deploy', 'other-project', 'admin'];
const RANK = { read: 0, deploy: 1, admin: 2 } as const;

/** What a caller must get: 'denied-401', 'denied-403' or 'allowed' (any status but 401/403). */
function expectedOutcome(rule: AccessRule, caller: Caller): 'denied-401' | 'denied-403' | 'allowed' {
  if (rule === 'public') return 'allowed';
  if (caller === 'none') return 'denied-401';
  const scope = caller === 'other-project' ? 'admin' : caller;
  if (RANK[scope] < RANK[rule.scope]) return 'denied-403';
  if (caller === 'other-project') return rule.project === 'filter' ? 'allowed' : 'denied-403';
  return 'allowed';
}

function setup(): { t: TestApp; tokens: Record<Exclude<Caller, 'none'>, string>; tokenId: string } {
  const t = makeTestApp();
  t.deps.projects.create(TEST_ACTOR, { name: 'web' });
  t.deps.projects.create(TEST_ACTOR, { name: 'other' });
  const throwaway = t.deps.tokens.mint(TEST_ACTOR, { name: 'throwaway', scope: 'read' });
  return {
    t,
    tokenId: throwaway.id,
    tokens: {
      read: t.token({ name: 'r', scope: 'read' }),
      deploy: t.token({ name: 'd', scope: 'deploy' }),
      admin: t.adminToken,
      // The strongest scope, limited to another project: only project rules can stop it.
      'other-project': t.token({ name: 'o', scope: 'admin', projects: ['other'] }),
    },
  };
}

describe('access rules', () => {
  const probe = makeTestApp();
  const routes = probe.app.routes
    .filter((r) => !DOC_PLUGIN_ROUTES.has(`${r.method} ${r.path}`))
    .map((r) => ({
      key: `${r.method} ${r.path}`,
      method: r.method,
      path: r.path,
      declared: (r.hooks as { detail?: Record<string, unknown> } | undefined)?.detail?.[ACCESS_EXTENSION],
    }));
  probe.close();

  test('every registered route has an expected rule in this test', () => {
    const unknown = routes.map((r) => r.key).filter((k) => !(k in EXPECTED));
    expect(unknown).toEqual([]);
    expect(routes.length).toBeGreaterThanOrEqual(Object.keys(EXPECTED).length);
  });

  test('every route declares the rule this test expects', () => {
    for (const r of routes)
      expect({ route: r.key, rule: r.declared }).toEqual({ route: r.key, rule: EXPECTED[r.key]?.rule });
  });

  test('the app refuses to start with a route that declares no rule', () => {
    expect(() => assertEveryRouteHasAccess([{ method: 'GET', path: '/v1/new-thing', hooks: { detail: {} } }])).toThrow(
      'Routes without an access rule: GET /v1/new-thing',
    );
  });

  for (const r of routes) {
    test(`${r.key} lets in exactly the callers its rule allows`, async () => {
      const spec = EXPECTED[r.key];
      expect(spec).toBeDefined();
      const { t, tokens, tokenId } = setup();
      try {
        const path = r.path.replace(':name', 'web').replace(':id', tokenId).replace(':volume', 'data');
        for (const caller of CALLERS) {
          const res = await t.req(r.method, path, {
            token: caller === 'none' ? null : tokens[caller],
            body: spec!.body,
          });
          const outcome = expectedOutcome(spec!.rule, caller);
          const got = { route: r.key, caller, status: res.status };
          if (outcome === 'denied-401') expect(got).toEqual({ ...got, status: 401 });
          else if (outcome === 'denied-403') expect(got).toEqual({ ...got, status: 403 });
          else expect([401, 403]).not.toContain(res.status);
          if (res.status === 401 || res.status === 403) {
            const body = (await res.json()) as { error: { code: string } };
            expect(body.error.code).toBe(res.status === 401 ? 'unauthorized' : 'forbidden');
          }
        }
      } finally {
        t.close();
      }
    });
  }
});
