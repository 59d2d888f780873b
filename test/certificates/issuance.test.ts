import { describe, expect, test } from 'bun:test';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { TEST_ACTOR } from '../helpers/app.ts';
import { acmeSuite, type CertificateAgent, chainsTo, makeCertificate } from './helpers.ts';

const acme = acmeSuite();
let agent: CertificateAgent | null = null;

const MINUTE = 60_000;

function ordersOf(a: CertificateAgent, hostname: string): { status: string; error: string | null }[] {
  return a.deps.db
    .prepare('SELECT status, error FROM acme_orders WHERE hostname = ? ORDER BY created_at')
    .all(hostname) as { status: string; error: string | null }[];
}

function activityOf(a: CertificateAgent, action: string) {
  return a.deps.activity.list({ limit: 100, only: null, action }).data;
}

describe('issuing', () => {
  test('a verified domain gets a certificate from the CA: active, stored with a sealed key, served by the edge', async () => {
    agent = acme.agent();
    const domain = agent.addDomain('web', 'shop.example.test');
    await agent.deps.certificates.issue(domain);

    const row = agent.domains.byHostname('shop.example.test')!;
    expect(row).toMatchObject({ status: 'active', reason: null, attempts: 0, next_attempt_at: null });
    const stored = agent.certificates.find('shop.example.test')!;
    expect(stored.source).toBe('acme');
    expect(stored.key_sealed).not.toContain('PRIVATE KEY');
    expect(stored.key_sealed.startsWith('v1.')).toBe(true);
    expect(chainsTo(stored.cert_pem, await acme.servers.rootPem())).toBe(true);
    const leaf = new X509Certificate(stored.cert_pem);
    expect(leaf.checkHost('shop.example.test')).toBe('shop.example.test');
    expect(stored.serial).toBe(leaf.serialNumber.toUpperCase());
    expect(stored.issuer).toMatch(/^Pebble Intermediate CA/);
    const lifetime = Date.parse(stored.not_after) - Date.parse(stored.not_before);
    expect(Date.parse(stored.renew_at!)).toBe(Date.parse(stored.not_before) + Math.round((lifetime * 2) / 3));

    const served = agent.snapshot().certificates.find((c) => c.hostname === 'shop.example.test')!;
    expect(served.certPem).toBe(stored.cert_pem);
    expect(leaf.checkPrivateKey(createPrivateKey(served.keyPem))).toBe(true);
    expect(agent.snapshot().challenges).toEqual([]);
    expect(ordersOf(agent, 'shop.example.test')).toEqual([{ status: 'valid', error: null }]);
    const [issued] = activityOf(agent, 'certificate.issue');
    expect(issued).toMatchObject({ target: 'shop.example.test', project: 'web', token: { name: 'system' } });
    expect(issued!.changes).toEqual({
      issuer: stored.issuer,
      serial: stored.serial,
      not_before: stored.not_before,
      not_after: stored.not_after,
    });
  });

  test('each certificate gets a key of its own', async () => {
    agent = acme.agent();
    await agent.deps.certificates.issue(agent.addDomain('web', 'one.example.test'));
    await agent.deps.certificates.issue(agent.addDomain('web', 'two.example.test'));
    const keys = agent
      .snapshot()
      .certificates.map((c) => createPrivateKey(c.keyPem).export({ format: 'der', type: 'pkcs8' }).toString('hex'));
    expect(keys).toHaveLength(2);
    expect(keys[0]).not.toBe(keys[1]);
  });

  test("a CA that cannot reach the challenge fails the domain with the CA's message, then the retry after the backoff succeeds", async () => {
    agent = acme.agent();
    await acme.servers.caDns.addA('away.example.test', ['127.0.0.2']);
    const domain = agent.addDomain('web', 'away.example.test');
    const before = agent.clock.now().getTime();
    await agent.deps.certificates.issue(domain);

    const failed = agent.domains.byHostname('away.example.test')!;
    expect(failed.status).toBe('failed');
    expect(failed.attempts).toBe(1);
    expect(failed.reason).toStartWith('The CA could not validate away.example.test: ');
    expect(failed.reason).toContain('127.0.0.2');
    expect(failed.reason).toMatch(/connection refused/i);
    const wait = Date.parse(failed.next_attempt_at!) - before;
    expect(wait).toBeGreaterThanOrEqual(5 * MINUTE);
    expect(wait).toBeLessThan(6 * MINUTE);
    expect(agent.certificates.find('away.example.test')).toBeUndefined();
    expect(ordersOf(agent, 'away.example.test')).toEqual([{ status: 'invalid', error: failed.reason }]);
    expect(activityOf(agent, 'certificate.issue_failed')[0]?.changes).toEqual({
      reason: failed.reason,
      attempts: 1,
      next_attempt_at: failed.next_attempt_at,
    });

    await acme.servers.caDns.clearA('away.example.test');
    agent.clock.advance(5 * MINUTE);
    await agent.deps.certificates.issue(agent.domains.byHostname('away.example.test')!);
    expect(agent.domains.byHostname('away.example.test')).toMatchObject({
      status: 'active',
      attempts: 0,
      reason: null,
    });
  });

  test('the backoff doubles with each failure in a row', async () => {
    agent = acme.agent();
    await acme.servers.caDns.addA('flaky.example.test', ['127.0.0.2']);
    const domain = agent.addDomain('web', 'flaky.example.test');
    await agent.deps.certificates.issue(domain);
    const first = agent.domains.byHostname('flaky.example.test')!;
    await agent.deps.certificates.issue(first);
    const second = agent.domains.byHostname('flaky.example.test')!;
    expect(second.attempts).toBe(2);
    const wait = Date.parse(second.next_attempt_at!) - agent.clock.now().getTime();
    expect(wait).toBeGreaterThan(9 * MINUTE);
    expect(wait).toBeLessThanOrEqual(10 * MINUTE);
    await acme.servers.caDns.clearA('flaky.example.test');
  });

  test('two issue() calls at once place one order', async () => {
    agent = acme.agent();
    const domain = agent.addDomain('web', 'once.example.test');
    await Promise.all([agent.deps.certificates.issue(domain), agent.deps.certificates.issue(domain)]);
    expect(ordersOf(agent, 'once.example.test')).toEqual([{ status: 'valid', error: null }]);
    expect(activityOf(agent, 'certificate.issue')).toHaveLength(1);
  });

  test('a pending order left by a stopped agent holds the name for ten minutes, then is abandoned', async () => {
    agent = acme.agent();
    agent.certificates.orders.start({
      id: 'ord_left',
      hostname: 'left.example.test',
      registered_domain: 'example.test',
      created_at: agent.clock.now().toISOString(),
    });
    const domain = agent.addDomain('web', 'left.example.test');
    await agent.deps.certificates.issue(domain);
    const held = agent.domains.byHostname('left.example.test')!;
    expect(held.status).toBe('failed');
    expect(held.reason).toMatch(/^An order for left\.example\.test placed at .* may still be in flight/);
    expect(ordersOf(agent, 'left.example.test')).toEqual([{ status: 'pending', error: null }]);

    agent.clock.advance(11 * MINUTE);
    await agent.deps.certificates.issue(held);
    expect(agent.domains.byHostname('left.example.test')!.status).toBe('active');
    expect(ordersOf(agent, 'left.example.test')).toEqual([
      { status: 'invalid', error: 'Abandoned: the process that placed it ended' },
      { status: 'valid', error: null },
    ]);
  });

  test('publishAll writes every stored certificate with its key unsealed', async () => {
    agent = acme.agent();
    await agent.deps.certificates.issue(agent.addDomain('web', 'again.example.test'));
    agent.deps.db.prepare('DELETE FROM acme_orders').run();
    agent.deps.edge.removeCertificate('again.example.test');
    expect(agent.snapshot().certificates).toEqual([]);

    agent.deps.edge.publishAll();
    const [served] = agent.snapshot().certificates;
    const stored = agent.certificates.find('again.example.test')!;
    expect(served).toEqual({
      hostname: 'again.example.test',
      certPem: stored.cert_pem,
      keyPem: expect.stringContaining('PRIVATE KEY'),
      notAfter: stored.not_after,
    });
    expect(new X509Certificate(served!.certPem).checkPrivateKey(createPrivateKey(served!.keyPem))).toBe(true);
  });

  /** Runs `during` once, right after the first certificate for `hostname` is handed to the edge (before it is stored). */
  function whilePreviewed(a: CertificateAgent, hostname: string, during: () => void): void {
    const put = a.deps.edge.putCertificate;
    let done = false;
    a.deps.edge.putCertificate = (certificate) => {
      const version = put(certificate);
      if (!done && certificate.hostname === hostname) {
        done = true;
        during();
      }
      return version;
    };
  }

  test('a domain deleted while the edge applies its new certificate stores nothing and the edge stops serving it', async () => {
    agent = acme.agent();
    const a = agent;
    const domain = a.addDomain('web', 'gone.example.test');
    whilePreviewed(a, 'gone.example.test', () => {
      a.domains.remove(domain.id);
      a.deps.certificates.removeCertificate('gone.example.test');
    });
    await a.deps.certificates.issue(domain);
    expect(a.certificates.find('gone.example.test')).toBeUndefined();
    expect(a.snapshot().certificates.find((c) => c.hostname === 'gone.example.test')).toBeUndefined();
    expect(activityOf(a, 'certificate.issue')).toHaveLength(0);
  });

  test('a certificate uploaded while the edge applies an ordered one stays stored and served', async () => {
    agent = acme.agent();
    const a = agent;
    const uploaded = await makeCertificate(['raced.example.test']);
    const domain = a.addDomain('web', 'raced.example.test');
    whilePreviewed(a, 'raced.example.test', () => {
      a.deps.certificates.uploads.putForDomain(TEST_ACTOR, 'web', 'raced.example.test', {
        certificate: uploaded.certificate,
        private_key: uploaded.privateKey,
      });
    });
    await a.deps.certificates.issue(domain);
    const row = a.certificates.find('raced.example.test')!;
    expect(row.source).toBe('uploaded');
    expect(new X509Certificate(row.cert_pem).fingerprint256).toBe(
      new X509Certificate(uploaded.certificate).fingerprint256,
    );
    expect(a.snapshot().certificates.find((c) => c.hostname === 'raced.example.test')!.certPem).toBe(row.cert_pem);
    expect(a.domains.byHostname('raced.example.test')!.status).toBe('active');
  });
});
