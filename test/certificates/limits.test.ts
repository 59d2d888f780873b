import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registeredDomain } from '../../src/domains/hostname.ts';
import { acmeSuite, type CertificateAgent, certificateAgent } from './helpers.ts';

const acme = acmeSuite();
let agent: CertificateAgent | null = null;

const DAY = 24 * 3600 * 1000;

/** Records `n` orders placed for other names under `registered`, the oldest `oldestDaysAgo` days back. */
function pastOrders(a: CertificateAgent, registered: string, n: number, oldestDaysAgo: number): void {
  for (let i = 0; i < n; i++) {
    const at = new Date(a.clock.now().getTime() - oldestDaysAgo * DAY + i * 1000);
    a.certificates.orders.start({
      id: `ord_past_${i}`,
      hostname: `n${i}.${registered}`,
      registered_domain: registered,
      created_at: at.toISOString(),
    });
    a.certificates.orders.finish(`ord_past_${i}`, 'valid', null);
  }
}

describe('rate limits', () => {
  test('names count under their registered domain', () => {
    expect(registeredDomain('shop.example.com')).toBe('example.com');
    expect(registeredDomain('a.b.example.co.uk')).toBe('example.co.uk');
    expect(registeredDomain('web.apps.example.test')).toBe('example.test');
    expect(registeredDomain('*.apps.example.com')).toBe('example.com');
    expect(registeredDomain('host.invalid-tld-zz')).toBe('host.invalid-tld-zz');
    // Private suffixes count: two users of one hosting provider are two registered domains.
    expect(registeredDomain('alice.github.io')).toBe('alice.github.io');
    expect(registeredDomain('www.alice.github.io')).toBe('alice.github.io');
    expect(registeredDomain('bob.github.io')).not.toBe(registeredDomain('alice.github.io'));
  });

  test('the 40th order of a registered domain in a week is placed with a warning in the log and the activity', async () => {
    agent = acme.agent();
    pastOrders(agent, 'example.test', 39, 6);
    await agent.deps.certificates.issue(agent.addDomain('web', 'busy.example.test'));
    expect(agent.domains.byHostname('busy.example.test')!.status).toBe('active');
    const [warning] = agent.deps.activity.list({ limit: 10, only: null, action: 'certificate.rate_warning' }).data;
    expect(warning).toMatchObject({ target: 'busy.example.test', token: { name: 'system' } });
    expect(warning!.changes).toEqual({
      registered_domain: 'example.test',
      orders_this_week: 40,
      message: '40 certificate orders for example.test in the last 7 days: the CA refuses more than 50 a week',
    });
    expect(agent.logLines.some((l) => l.includes('"certificate orders near the weekly limit"'))).toBe(true);
  });

  test('orders older than a week do not count', async () => {
    agent = acme.agent();
    pastOrders(agent, 'example.test', 60, 8);
    await agent.deps.certificates.issue(agent.addDomain('web', 'old.example.test'));
    expect(agent.domains.byHostname('old.example.test')!.status).toBe('active');
    expect(agent.deps.activity.list({ limit: 10, only: null, action: 'certificate.rate_warning' }).data).toEqual([]);
  });

  test('at 50 orders in a week no order is placed: the domain fails until the window frees up', async () => {
    agent = acme.agent();
    pastOrders(agent, 'example.test', 50, 6);
    const oldest = agent.deps.db.prepare('SELECT MIN(created_at) AS at FROM acme_orders').get() as { at: string };
    const frees = new Date(Date.parse(oldest.at) + 7 * DAY).toISOString();
    await agent.deps.certificates.issue(agent.addDomain('web', 'full.example.test'));
    const row = agent.domains.byHostname('full.example.test')!;
    expect(row.status).toBe('failed');
    expect(row.reason).toBe(
      `Not ordering a certificate for full.example.test: 50 orders for example.test in the last 7 days reached the CA's weekly limit of 50; the next order can be placed at ${frees}`,
    );
    expect(row.next_attempt_at).toBe(frees);
    const placed = agent.deps.db.prepare("SELECT COUNT(*) AS n FROM acme_orders WHERE hostname = 'full.example.test'");
    expect((placed.get() as { n: number }).n).toBe(0);

    agent.clock.advance(DAY + 60_000);
    await agent.deps.certificates.issue(row);
    expect(agent.domains.byHostname('full.example.test')!.status).toBe('active');
  });

  test('a renewal asked for at the limit answers 429 with Retry-After', async () => {
    agent = acme.agent();
    await agent.deps.certificates.issue(agent.addDomain('web', 'shop.example.test'));
    pastOrders(agent, 'example.test', 49, 3);
    const res = await agent.req('POST', '/v1/projects/web/domains/shop.example.test/certificate/renew');
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(3 * 24 * 3600);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toMatch(
      /^Not ordering a certificate for shop\.example\.test: 50 orders for example\.test/,
    );
    expect(agent.certificates.find('shop.example.test')!.renew_failures).toBe(1);
  });
});

describe('a CA that says rateLimited', () => {
  let dir: string;
  let ca: ReturnType<typeof Bun.serve>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-fake-ca-'));
    const proc = Bun.spawn(
      [
        ...['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-days', '2'],
        ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ],
      { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' },
    );
    expect(await proc.exited).toBe(0);
    ca = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      tls: { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') },
      fetch: () =>
        Response.json(
          { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'Service busy; retry later', status: 429 },
          { status: 429, headers: { 'content-type': 'application/problem+json', 'retry-after': '120' } },
        ),
    });
    writeFileSync(join(dir, 'ca.pem'), readFileSync(join(dir, 'cert.pem')));
  });
  afterAll(async () => {
    await ca?.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the domain fails with its words and the next attempt at its Retry-After, without waiting in the order', async () => {
    agent = acme.track(
      certificateAgent(null, {
        SLIPWAY_ACME_DIRECTORY: `https://localhost:${ca.port}/directory`,
        SLIPWAY_ACME_CA_FILE: join(dir, 'ca.pem'),
      }),
    );
    const started = Date.now();
    await agent.deps.certificates.issue(agent.addDomain('web', 'shop.example.com'));
    expect(Date.now() - started).toBeLessThan(5000);
    const row = agent.domains.byHostname('shop.example.com')!;
    expect(row.status).toBe('failed');
    expect(row.reason).toBe('The CA is rate limiting this agent: Service busy; retry later');
    const wait = Date.parse(row.next_attempt_at!) - agent.clock.now().getTime();
    expect(wait).toBeGreaterThan(110_000);
    expect(wait).toBeLessThanOrEqual(120_000);
  });
});

describe('the per-project cap', () => {
  test('one project places at most 10 orders an hour, so it cannot use up the shared account alone', async () => {
    agent = acme.agent();
    const other = agent.addDomain('other', 'other.example.test');
    const domain = agent.addDomain('web', 'capped.example.test');
    const start = agent.clock.now().getTime() - 50 * 60_000;
    for (let i = 0; i < 10; i++) {
      const at = new Date(start + i * 1000);
      agent.certificates.orders.start({
        id: `ord_hour_${i}`,
        hostname: `h${i}.example.org`,
        registered_domain: 'example.org',
        project_id: domain.project_id,
        created_at: at.toISOString(),
      });
      agent.certificates.orders.finish(`ord_hour_${i}`, 'invalid', 'failed');
    }
    const frees = new Date(start + 3600_000).toISOString();
    await agent.deps.certificates.issue(domain);
    const row = agent.domains.byHostname('capped.example.test')!;
    expect(row.status).toBe('failed');
    expect(row.reason).toBe(
      `Not ordering a certificate for capped.example.test: its project placed 10 orders in the last 60 minutes, the most one project may; the next order can be placed at ${frees}`,
    );
    expect(row.next_attempt_at).toBe(frees);
    const placed = agent.deps.db
      .prepare('SELECT COUNT(*) AS n FROM acme_orders WHERE hostname = ?')
      .get('capped.example.test') as { n: number };
    expect(placed.n).toBe(0);

    await agent.deps.certificates.issue(other);
    expect(agent.domains.byHostname('other.example.test')!.status).toBe('active');
    const recorded = agent.deps.db
      .prepare('SELECT project_id FROM acme_orders WHERE hostname = ?')
      .get('other.example.test') as { project_id: string };
    expect(recorded.project_id).toBe(other.project_id);
  });
});
