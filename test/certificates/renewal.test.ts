import { describe, expect, test } from 'bun:test';
import { errorOf } from '../helpers/app.ts';
import { acmeSuite, type CertificateAgent } from './helpers.ts';

const acme = acmeSuite();
let agent: CertificateAgent | null = null;

const MINUTE = 60_000;

/** Moves the agent's clock just past `hostname`'s renewal time. */
function toRenewal(a: CertificateAgent, hostname: string): void {
  const renewAt = Date.parse(a.certificates.find(hostname)!.renew_at!);
  a.clock.advance(renewAt - a.clock.now().getTime() + MINUTE);
}

function orderCount(a: CertificateAgent, hostname: string): number {
  return (a.deps.db.prepare('SELECT COUNT(*) AS n FROM acme_orders WHERE hostname = ?').get(hostname) as { n: number })
    .n;
}

describe('renewal', () => {
  test('a certificate is renewed once two thirds of its lifetime have passed, and the edge gets the new one', async () => {
    agent = acme.agent();
    await agent.deps.certificates.issue(agent.addDomain('web', 'shop.example.test'));
    const first = agent.certificates.find('shop.example.test')!;

    await agent.deps.certificates.pass();
    expect(agent.certificates.find('shop.example.test')!.serial).toBe(first.serial);
    expect(orderCount(agent, 'shop.example.test')).toBe(1);

    toRenewal(agent, 'shop.example.test');
    await agent.deps.certificates.pass();
    const renewed = agent.certificates.find('shop.example.test')!;
    expect(renewed.serial).not.toBe(first.serial);
    expect(renewed.key_sealed).not.toBe(first.key_sealed);
    expect(renewed.renew_failures).toBe(0);
    expect(renewed.created_at).toBe(first.created_at);
    const served = agent.snapshot().certificates.find((c) => c.hostname === 'shop.example.test')!;
    expect(served.certPem).toBe(renewed.cert_pem);
    expect(agent.domains.byHostname('shop.example.test')!.status).toBe('active');
    const [row] = agent.deps.activity.list({ limit: 10, only: null, action: 'certificate.renew' }).data;
    expect(row).toMatchObject({ target: 'shop.example.test', project: 'web', token: { name: 'system' } });
    expect(row!.changes.serial).toBe(renewed.serial);
  });

  test('a failed renewal keeps the old certificate served and backs off before the next try', async () => {
    agent = acme.agent();
    await agent.deps.certificates.issue(agent.addDomain('web', 'keep.example.test'));
    const first = agent.certificates.find('keep.example.test')!;
    await agent.forgetValidations('keep.example.test');
    await acme.servers.caDns.addA('keep.example.test', ['127.0.0.2']);
    try {
      toRenewal(agent, 'keep.example.test');
      await agent.deps.certificates.pass();
      const after = agent.certificates.find('keep.example.test')!;
      expect(after.serial).toBe(first.serial);
      expect(after.cert_pem).toBe(first.cert_pem);
      expect(after.renew_failures).toBe(1);
      expect(after.renew_error).toMatch(/^The CA could not validate keep\.example\.test: .*connection refused/);
      const wait = Date.parse(after.renew_next_at!) - agent.clock.now().getTime();
      expect(wait).toBeGreaterThan(4 * MINUTE);
      expect(wait).toBeLessThanOrEqual(5 * MINUTE);
      expect(agent.snapshot().certificates.find((c) => c.hostname === 'keep.example.test')!.certPem).toBe(
        first.cert_pem,
      );
      expect(agent.domains.byHostname('keep.example.test')!.status).toBe('active');
      const metrics = await (await agent.req('GET', '/metrics')).text();
      const labels = '{hostname="keep.example.test",source="acme"}';
      expect(metrics).toContain(`slipway_certificate_renewal_failures${labels} 1`);
      expect(metrics).toContain(
        `slipway_certificate_not_after_seconds${labels} ${Math.floor(Date.parse(first.not_after) / 1000)}`,
      );
      expect(metrics).toMatch(
        /\nslipway_certificate_last_renewal_failure_seconds\{hostname="keep\.example\.test",source="acme"\} \d{10}\n/,
      );

      await agent.deps.certificates.pass();
      expect(orderCount(agent, 'keep.example.test')).toBe(2);

      agent.clock.advance(5 * MINUTE);
      await agent.deps.certificates.pass();
      expect(orderCount(agent, 'keep.example.test')).toBe(3);
      expect(agent.certificates.find('keep.example.test')!.renew_failures).toBe(2);
    } finally {
      await acme.servers.caDns.clearA('keep.example.test');
    }
    agent.clock.advance(10 * MINUTE);
    await agent.deps.certificates.pass();
    const renewed = agent.certificates.find('keep.example.test')!;
    expect(renewed.serial).not.toBe(first.serial);
    expect(renewed).toMatchObject({ renew_failures: 0, renew_error: null, renew_next_at: null });
  });

  test('POST …/certificate/renew renews now, and is recorded with the caller', async () => {
    agent = acme.agent();
    await agent.deps.certificates.issue(agent.addDomain('web', 'now.example.test'));
    const first = agent.certificates.find('now.example.test')!;
    const res = await agent.req('POST', '/v1/projects/web/domains/now.example.test/certificate/renew');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    const renewed = agent.certificates.find('now.example.test')!;
    expect(body).toEqual({
      hostname: 'now.example.test',
      project: 'web',
      source: 'acme',
      issuer: renewed.issuer,
      serial: renewed.serial,
      not_before: renewed.not_before,
      not_after: renewed.not_after,
      days_left: expect.any(Number),
      renew_at: renewed.renew_at,
      renewal: { failures: 0, last_error: null, next_attempt_at: null },
    });
    expect(renewed.serial).not.toBe(first.serial);
    const [request] = agent.deps.activity.list({ limit: 10, only: null, action: 'certificate.renew_request' }).data;
    expect(request).toMatchObject({ target: 'now.example.test', project: 'web', token: { name: 'admin' } });
  });

  test('POST …/certificate/renew orders the first certificate of a verified domain that has none', async () => {
    agent = acme.agent();
    agent.addDomain('web', 'first.example.test');
    const res = await agent.req('POST', '/v1/projects/web/domains/first.example.test/certificate/renew');
    expect(res.status).toBe(200);
    expect(agent.domains.byHostname('first.example.test')!.status).toBe('active');
  });

  test('POST …/certificate/renew answers 409 with the CA words when the order fails', async () => {
    agent = acme.agent();
    await agent.deps.certificates.issue(agent.addDomain('web', 'fails.example.test'));
    await agent.forgetValidations('fails.example.test');
    await acme.servers.caDns.addA('fails.example.test', ['127.0.0.2']);
    try {
      const res = await agent.req('POST', '/v1/projects/web/domains/fails.example.test/certificate/renew');
      expect(res.status).toBe(409);
      expect((await errorOf(res)).message).toMatch(
        /^Cannot renew the certificate of fails\.example\.test: The CA could not validate fails\.example\.test: .*connection refused/,
      );
    } finally {
      await acme.servers.caDns.clearA('fails.example.test');
    }
  });

  test('POST …/certificate/renew refuses what it cannot renew', async () => {
    agent = acme.agent();
    agent.addDomain('web', 'pending.example.test', 'pending_dns');
    const cases: [string, number, string][] = [
      [
        '/v1/projects/web/domains/nope.example.test/certificate/renew',
        404,
        'No domain "nope.example.test" in project "web"',
      ],
      ['/v1/projects/nope/domains/pending.example.test/certificate/renew', 404, 'No project named "nope"'],
      [
        '/v1/projects/web/domains/pending.example.test/certificate/renew',
        409,
        'Cannot renew the certificate of pending.example.test: its DNS is not verified yet',
      ],
    ];
    for (const [path, status, message] of cases) {
      const res = await agent.req('POST', path);
      expect({ path, status: res.status, message: (await errorOf(res)).message }).toEqual({ path, status, message });
    }
  });

  test('publishing the store again and passes before the renewal time never order again', async () => {
    agent = acme.agent();
    await agent.deps.certificates.issue(agent.addDomain('web', 'stay.example.test'));
    agent.deps.edge.publishAll();
    await agent.deps.certificates.pass();
    await agent.deps.certificates.pass();
    expect(orderCount(agent, 'stay.example.test')).toBe(1);
  });

  test('a deploy token renews only in the renewal window; an admin token renews earlier', async () => {
    agent = acme.agent();
    await agent.deps.certificates.issue(agent.addDomain('web', 'early.example.test'));
    const first = agent.certificates.find('early.example.test')!;
    const deploy = agent.token({ name: 'ci', scope: 'deploy' });
    const path = '/v1/projects/web/domains/early.example.test/certificate/renew';

    const early = await agent.req('POST', path, { token: deploy });
    expect(early.status).toBe(409);
    expect(await errorOf(early)).toMatchObject({
      code: 'conflict',
      message: `Cannot renew the certificate of early.example.test: it is not due for renewal before ${first.renew_at}; an admin token may renew it earlier`,
    });
    expect(orderCount(agent, 'early.example.test')).toBe(1);

    expect((await agent.req('POST', path)).status).toBe(200);
    expect(orderCount(agent, 'early.example.test')).toBe(2);

    toRenewal(agent, 'early.example.test');
    expect((await agent.req('POST', path, { token: deploy })).status).toBe(200);
    expect(orderCount(agent, 'early.example.test')).toBe(3);
  });

  test("renew-on-request waits out a failed renewal's backoff, for admin tokens too", async () => {
    agent = acme.agent();
    await agent.deps.certificates.issue(agent.addDomain('web', 'again.example.test'));
    const path = '/v1/projects/web/domains/again.example.test/certificate/renew';
    await agent.forgetValidations('again.example.test');
    await acme.servers.caDns.addA('again.example.test', ['127.0.0.2']);
    try {
      expect((await agent.req('POST', path)).status).toBe(409);
      const next = agent.certificates.find('again.example.test')!.renew_next_at!;
      for (let i = 0; i < 3; i++) {
        const res = await agent.req('POST', path);
        expect(res.status).toBe(429);
        const seconds = Number(res.headers.get('retry-after'));
        expect(seconds).toBeGreaterThan(4 * 60);
        expect(seconds).toBeLessThanOrEqual(5 * 60);
        expect(await errorOf(res)).toMatchObject({
          code: 'rate_limited',
          message: `Cannot renew the certificate of again.example.test: the last attempt failed; it may run again at ${next}`,
        });
      }
      expect(orderCount(agent, 'again.example.test')).toBe(2);
    } finally {
      await acme.servers.caDns.clearA('again.example.test');
    }
    agent.clock.advance(6 * MINUTE);
    const deploy = agent.token({ name: 'ci', scope: 'deploy' });
    expect((await agent.req('POST', path, { token: deploy })).status).toBe(200);
    expect(orderCount(agent, 'again.example.test')).toBe(3);
  });

  test("renew-on-request waits out a failed first order's backoff", async () => {
    agent = acme.agent();
    const domain = agent.addDomain('web', 'wait.example.test');
    const next = new Date(agent.clock.now().getTime() + 10 * MINUTE).toISOString();
    agent.domains.setStatus(domain.id, {
      status: 'failed',
      reason: 'earlier failure',
      next_attempt_at: next,
      attempts: 1,
    });
    const res = await agent.req('POST', '/v1/projects/web/domains/wait.example.test/certificate/renew');
    expect(res.status).toBe(429);
    expect(await errorOf(res)).toMatchObject({
      code: 'rate_limited',
      message: `Cannot renew the certificate of wait.example.test: the last attempt failed; it may run again at ${next}`,
    });
    expect(orderCount(agent, 'wait.example.test')).toBe(0);
  });
});
