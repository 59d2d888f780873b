import { describe, expect, test } from 'bun:test';
import { isPublicBaseDomain } from '../../src/certificates/platform-hosts.ts';
import { loadConfig } from '../../src/config.ts';
import { createDeps } from '../../src/deps.ts';
import { createLogger } from '../../src/log.ts';
import { platformHostRepo } from '../../src/db/platform-hosts.ts';
import { TEST_ACTOR } from '../helpers/app.ts';
import { acmeSuite, type CertificateAgent, makeCertificate } from './helpers.ts';

const acme = acmeSuite();
let agent: CertificateAgent | null = null;

const PUBLIC = { SLIPWAY_BASE_DOMAIN: 'apps.example.com', SLIPWAY_HTTPS_LISTEN: '127.0.0.1:0' };
const MINUTE = 60_000;

function hostsOf(a: CertificateAgent) {
  return platformHostRepo(a.deps.db)
    .all()
    .map((h) => [h.hostname, h.status]);
}

function stored(a: CertificateAgent): string[] {
  return a.certificates.all().map((c) => c.hostname);
}

describe('default host names and the API domain', () => {
  test('which base domains are public', () => {
    for (const name of ['apps.example.com', 'example.org', 'paas.example.co.uk'])
      expect(isPublicBaseDomain(name)).toBe(true);
    for (const name of [
      'localhost',
      'apps.localhost',
      'apps.test',
      'box.local',
      'corp.internal',
      'x.invalid',
      'a.example',
    ])
      expect(isPublicBaseDomain(name)).toBe(false);
  });

  test("each project's default host name gets its own certificate, removed with the project", async () => {
    agent = acme.agent(PUBLIC);
    agent.deps.projects.create(TEST_ACTOR, { name: 'web' });
    await agent.deps.certificates.pass();
    expect(hostsOf(agent)).toEqual([['web.apps.example.com', 'active']]);
    expect(stored(agent)).toEqual(['web.apps.example.com']);
    expect(agent.snapshot().certificates.map((c) => c.hostname)).toEqual(['web.apps.example.com']);
    const [issued] = agent.deps.activity.list({ limit: 10, only: null, action: 'certificate.issue' }).data;
    expect(issued).toMatchObject({ target: 'web.apps.example.com', project: 'web' });

    await agent.deps.certificates.pass();
    const orders = agent.deps.db.prepare('SELECT COUNT(*) AS n FROM acme_orders').get();
    expect(orders).toEqual({ n: 1 });

    agent.deps.projects.remove(TEST_ACTOR, 'web');
    await agent.deps.certificates.pass();
    expect(hostsOf(agent)).toEqual([]);
    expect(stored(agent)).toEqual([]);
    expect(agent.snapshot().certificates).toEqual([]);
  });

  test('the API domain gets its certificate at the first pass', async () => {
    agent = acme.agent({ ...PUBLIC, SLIPWAY_API_DOMAIN: 'slipway.example.com' });
    await agent.deps.certificates.pass();
    expect(hostsOf(agent)).toEqual([['slipway.example.com', 'active']]);
    expect(agent.deps.certificates.list(null)).toEqual([
      expect.objectContaining({ hostname: 'slipway.example.com', project: null, source: 'acme' }),
    ]);
  });

  test('a private base domain, or no HTTPS listener, orders nothing for default host names', async () => {
    const cases: [Record<string, string>, string[][]][] = [
      [{ SLIPWAY_BASE_DOMAIN: 'apps.test', SLIPWAY_HTTPS_LISTEN: '127.0.0.1:0' }, []],
      [{ SLIPWAY_BASE_DOMAIN: 'apps.example.com', SLIPWAY_HTTPS_LISTEN: 'off' }, [['web.apps.example.com', 'pending']]],
    ];
    for (const [env, rows] of cases) {
      agent = acme.agent(env, { edge: false });
      agent.deps.projects.create(TEST_ACTOR, { name: 'web' });
      await agent.deps.certificates.pass();
      expect(hostsOf(agent)).toEqual(rows);
      expect(agent.deps.db.prepare('SELECT COUNT(*) AS n FROM acme_orders').get()).toEqual({ n: 0 });
      await agent.stop();
      agent = null;
    }
  });

  test('turning HTTPS off keeps the certificates already ordered', async () => {
    agent = acme.agent(PUBLIC);
    agent.deps.projects.create(TEST_ACTOR, { name: 'web' });
    await agent.deps.certificates.pass();
    const config = loadConfig({
      ...PUBLIC,
      SLIPWAY_HTTPS_LISTEN: 'off',
      SLIPWAY_ACME_DIRECTORY: acme.servers.directoryUrl,
      SLIPWAY_ACME_CA_FILE: acme.servers.caFile,
      SLIPWAY_DATA_DIR: agent.dir,
    });
    const restarted = createDeps(config, { log: createLogger('error', () => {}) });
    try {
      await restarted.certificates.pass();
      expect(restarted.certificates.list(null).map((c) => c.hostname)).toEqual(['web.apps.example.com']);
    } finally {
      restarted.close();
    }
  });

  test('a failed order backs off: passes before the next attempt place none', async () => {
    agent = acme.agent(PUBLIC);
    await acme.servers.caDns.addA('web.apps.example.com', ['127.0.0.2']);
    try {
      agent.deps.projects.create(TEST_ACTOR, { name: 'web' });
      await agent.deps.certificates.pass();
      const [row] = platformHostRepo(agent.deps.db).all();
      expect(row).toMatchObject({ status: 'failed', attempts: 1 });
      expect(row!.reason).toMatch(/^The CA could not validate web\.apps\.example\.com: .*connection refused/);
      await agent.deps.certificates.pass();
      expect(agent.deps.db.prepare('SELECT COUNT(*) AS n FROM acme_orders').get()).toEqual({ n: 1 });
    } finally {
      await acme.servers.caDns.clearA('web.apps.example.com');
    }
    agent.clock.advance(5 * MINUTE);
    await agent.deps.certificates.pass();
    expect(hostsOf(agent)).toEqual([['web.apps.example.com', 'active']]);
  });

  test('an uploaded wildcard replaces the default host names’ certificates; removing it brings them back', async () => {
    agent = acme.agent(PUBLIC);
    agent.deps.projects.create(TEST_ACTOR, { name: 'web' });
    await agent.deps.certificates.pass();
    expect(stored(agent)).toEqual(['web.apps.example.com']);

    const wildcard = await makeCertificate(['*.apps.example.com']);
    const res = await agent.req('PUT', '/v1/certificates/base-domain', {
      body: { certificate: wildcard.certificate, private_key: wildcard.privateKey },
    });
    expect(res.status).toBe(200);
    await agent.deps.certificates.pass();
    expect(hostsOf(agent)).toEqual([]);
    expect(stored(agent)).toEqual(['*.apps.example.com']);
    expect(agent.snapshot().certificates.map((c) => c.hostname)).toEqual(['*.apps.example.com']);

    expect((await agent.req('DELETE', '/v1/certificates/base-domain')).status).toBe(204);
    await agent.deps.certificates.pass();
    expect(hostsOf(agent)).toEqual([['web.apps.example.com', 'active']]);
    expect(stored(agent)).toEqual(['web.apps.example.com']);
  });

  test("a deleted domain's certificate is dropped: at once through removeCertificate, else by the next pass", async () => {
    agent = acme.agent();
    await agent.deps.certificates.issue(agent.addDomain('web', 'gone.example.test'));
    await agent.deps.certificates.issue(agent.addDomain('web', 'late.example.test'));
    agent.domains.remove(agent.domains.byHostname('gone.example.test')!.id);
    agent.deps.certificates.removeCertificate('gone.example.test');
    expect(stored(agent)).toEqual(['late.example.test']);

    agent.domains.remove(agent.domains.byHostname('late.example.test')!.id);
    await agent.deps.certificates.pass();
    expect(stored(agent)).toEqual([]);
    expect(agent.snapshot().certificates).toEqual([]);
  });
});
