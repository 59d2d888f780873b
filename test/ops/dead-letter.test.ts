import { afterAll, describe, expect, test } from 'bun:test';
import { backupRepo } from '../../src/db/backups.ts';
import { certificateRepo } from '../../src/db/certificates.ts';
import { BuildStepFailed } from '../../src/deployments/failures.ts';
import { errorOf, makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { tgzOf } from '../helpers/archives.ts';

type Item = {
  kind: string;
  id: string;
  project: string | null;
  failed_at: string;
  reason: string | null;
  detail: Record<string, unknown>;
  retry: { method: string; path: string } | null;
};
type Page = { data: Item[]; pagination: { next_cursor: string | null; has_more: boolean } };

// The worker is not started: uploads stay queued until the test fails them through the lifecycle.
const t = makeTestApp({ SLIPWAY_WEBHOOK_ALLOW_PRIVATE: 'true' });
for (const name of ['web', 'api']) t.deps.projects.create(TEST_ACTOR, { name });
afterAll(() => t.close());

async function failedDeployment(project: string, why: string): Promise<string> {
  const res = await t.app.handle(
    new Request(`http://localhost/v1/projects/${project}/deployments`, {
      method: 'POST',
      body: tgzOf([{ name: 'index.html', body: why }]),
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/gzip' },
    }),
  );
  const { id } = (await res.json()) as { id: string };
  t.deps.lifecycle.end(id, new BuildStepFailed(null, why));
  await Bun.sleep(2); // distinct failure times
  return id;
}

const at = () => new Date().toISOString();
const webFailed = await failedDeployment('web', 'npm ci exited 1');
const apiFailed = await failedDeployment('api', 'go build exited 2');
backupRepo(t.deps.db).insert({
  id: 'bak_failed1',
  trigger: 'schedule',
  destination: 'local',
  status: 'failed',
  location: null,
  bytes: null,
  sha256: null,
  manifest: null,
  error: 'disk full',
  created_at: at(),
  finished_at: at(),
});
await Bun.sleep(2);
const hook = await t.deps.webhooks.create(TEST_ACTOR, { url: 'http://127.0.0.1:9/', events: ['backup.failed'] });
t.deps.db
  .prepare(
    `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, project, body, status, attempts, give_up_at,
       last_status_code, last_error, created_at, finished_at)
     VALUES ('whd_dead1', ?, 'evt_1', 'backup.failed', NULL, '{}', 'dead', 30, ?, 500, 'HTTP 500', ?, ?)`,
  )
  .run(hook.id, at(), at(), at());
await Bun.sleep(2);
certificateRepo(t.deps.db).put({
  hostname: 'web.apps.example.com',
  source: 'acme',
  cert_pem: 'x',
  key_sealed: 'x',
  issuer: 'Pebble',
  serial: '01',
  not_before: at(),
  not_after: at(),
  renew_at: at(),
  renew_failures: 3,
  renew_error: 'the CA said no',
  renew_next_at: at(),
  created_at: at(),
  updated_at: at(),
});

async function list(query = '', token?: string): Promise<Page> {
  const res = await t.req('GET', `/v1/ops/dead-letter${query}`, { token });
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

describe('GET /v1/ops/dead-letter', () => {
  test('lists everything that gave up, newest first, with reasons and retries', async () => {
    const page = await list();
    expect(page.data.map((i) => [i.kind, i.id])).toEqual([
      ['certificate_renewal', 'web.apps.example.com'],
      ['webhook_delivery', 'whd_dead1'],
      ['backup', 'bak_failed1'],
      ['deployment', apiFailed],
      ['deployment', webFailed],
    ]);
    expect(page.data[4]).toMatchObject({
      project: 'web',
      reason: 'Build failed: npm ci exited 1',
      detail: { number: 1, trigger: 'upload' },
      retry: { method: 'POST', path: `/v1/ops/dead-letter/deployment/${webFailed}/retry` },
    });
    expect(page.data[2]).toMatchObject({ reason: 'disk full', detail: { destination: 'local' } });
    // A certificate that is no custom domain's (a platform host name) is retried by Slipway itself.
    expect(page.data[0]).toMatchObject({ reason: 'the CA said no', detail: { failures: 3 }, retry: null });
  });

  test('pages with a cursor without repeating or skipping', async () => {
    const all = (await list()).data.map((i) => i.id);
    const seen: string[] = [];
    let cursor = '';
    for (;;) {
      const page = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.data.map((i) => i.id));
      if (!page.pagination.has_more) break;
      cursor = page.pagination.next_cursor!;
    }
    expect(seen).toEqual(all);
    const bad = await t.req('GET', '/v1/ops/dead-letter?cursor=bm9wZQ');
    expect(bad.status).toBe(400);
  });

  test('?project= filters to one project', async () => {
    expect((await list('?project=web')).data.map((i) => i.id)).toEqual([webFailed]);
    expect((await list('?kind=backup')).data.map((i) => i.id)).toEqual(['bak_failed1']);
  });

  test("a project-limited token sees only its projects' items, never agent-wide ones", async () => {
    const tenant = t.token({ name: 'tenant', scope: 'admin', projects: ['web'] });
    expect((await list('', tenant)).data.map((i) => i.id)).toEqual([webFailed]);
    expect((await list('?project=api', tenant)).data).toEqual([]);
    const reader = t.token({ name: 'reader', scope: 'read' });
    expect((await list('', reader)).data.map((i) => i.kind)).toEqual([
      'certificate_renewal',
      'deployment',
      'deployment',
    ]);
  });
});

describe('POST /v1/ops/dead-letter/{kind}/{id}/retry', () => {
  test('a failed deployment is rebuilt from its stored source', async () => {
    const res = await t.req('POST', `/v1/ops/dead-letter/deployment/${webFailed}/retry`);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { retried_as: string; message: string };
    expect(body.message).toBe('Deployment #2 queued from the same source');
    expect(t.deps.deploymentRepo.findAny(body.retried_as)).toMatchObject({
      trigger: 'retry',
      retry_of: webFailed,
      status: 'queued',
    });
  });

  test("a tenant cannot retry another project's item or an agent-wide one: 404, nothing queued", async () => {
    const tenant = t.token({ name: 'tenant-deploy', scope: 'deploy', projects: ['web'] });
    const before = t.deps.deploymentRepo.withStatus(['queued']).length;
    for (const path of [`deployment/${apiFailed}`, 'backup/bak_failed1', 'webhook_delivery/whd_dead1']) {
      const res = await t.req('POST', `/v1/ops/dead-letter/${path}/retry`, { token: tenant });
      expect(res.status).toBe(404);
      expect((await errorOf(res)).code).toBe('not_found');
    }
    const reader = t.token({ name: 'reader2', scope: 'read' });
    expect((await t.req('POST', `/v1/ops/dead-letter/deployment/${apiFailed}/retry`, { token: reader })).status).toBe(
      403,
    );
    expect(t.deps.deploymentRepo.withStatus(['queued']).length).toBe(before);
  });

  test("a platform host name's certificate is a 409, and an unknown item a 404", async () => {
    const cert = await t.req('POST', '/v1/ops/dead-letter/certificate_renewal/web.apps.example.com/retry');
    expect(cert.status).toBe(409);
    expect((await errorOf(cert)).message).toBe(
      'Cannot retry the renewal of web.apps.example.com: Slipway renews it by itself, with backoff',
    );
    const unknown = await t.req('POST', '/v1/ops/dead-letter/deployment/dep_nope/retry');
    expect(unknown.status).toBe(404);
    const badKind = await t.req('POST', '/v1/ops/dead-letter/cluster/x/retry');
    expect(badKind.status).toBe(422);
  });

  test('a dead delivery is queued again, recorded in the activity log', async () => {
    const res = await t.req('POST', '/v1/ops/dead-letter/webhook_delivery/whd_dead1/retry');
    expect(res.status).toBe(202);
    const { retried_as } = (await res.json()) as { retried_as: string };
    expect(t.deps.webhooks.delivery(hook.id, retried_as)).toMatchObject({
      status: 'pending',
      redelivery_of: 'whd_dead1',
    });
    const log = (await (await t.req('GET', '/v1/activity?action=webhook.redeliver')).json()) as {
      data: { target: string }[];
    };
    expect(log.data[0]!.target).toBe(retried_as);
  });
});
