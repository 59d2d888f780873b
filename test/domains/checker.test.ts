/**
 * The background checker on a real database and a real DNS server, with its clock in the test's
 * hands: backoff, the handoff to a certificate issuer, and one piece of work per domain at a time.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, onTestFinished, test } from 'bun:test';
import type { DomainRow } from '../../src/db/domains.ts';
import { domainRepo } from '../../src/db/domains.ts';
import { DomainChecker } from '../../src/domains/checker.ts';
import { domainChecks, retryDelayMs } from '../../src/domains/checks.ts';
import { DomainGuard } from '../../src/domains/guard.ts';
import { noCertificateBecause, type CertificateIssuer } from '../../src/domains/issuer.ts';
import { dnsLookup, dnsTxtLookup } from '../../src/domains/resolve.ts';
import { domainVerifier, type Verifier } from '../../src/domains/verify.ts';
import { routeStoreFile } from '../../src/edge/layout.ts';
import { RouteStoreReader } from '../../src/edge/route-store-reader.ts';
import { createLogger } from '../../src/log.ts';
import { makeTestApp, TEST_ACTOR, type TestApp } from '../helpers/app.ts';
import { startTestDns, type TestDns } from './dns-server.ts';

let dns: TestDns;
let t: TestApp;
let clock = Date.parse('2026-03-01T12:00:00.000Z');
const now = () => clock;
const iso = (ms: number) => new Date(ms).toISOString();

beforeAll(async () => {
  dns = await startTestDns();
  await dns.addA('elsewhere.example.test', ['127.0.0.2']);
  await dns.addA('good.example.test', ['127.0.0.1']);
  t = makeTestApp({ SLIPWAY_DNS_SERVERS: dns.server, SLIPWAY_PUBLIC_IPS: '127.0.0.1' });
  t.deps.projects.create(TEST_ACTOR, { name: 'web' });
});
afterAll(async () => {
  t?.close();
  await dns?.stop();
});

/** The checker's parts around the test's database, clock, verifier and issuer. */
function parts(o: { issuer?: CertificateIssuer | null; verify?: Verifier; apiDomain?: string } = {}) {
  const repo = domainRepo(t.deps.db);
  const guard = new DomainGuard();
  const issuer = o.issuer ?? null;
  const noCertificate = (hostname: string) =>
    noCertificateBecause({ issuer, acmeDirectory: 'https://acme.test/dir', https: true }, hostname);
  const verify =
    o.verify ??
    domainVerifier({
      lookup: dnsLookup([dns.server]),
      lookupTxt: dnsTxtLookup([dns.server]),
      publicIps: () => ['127.0.0.1'],
      selfCheck: { unavailable: 'not in this test' },
    });
  const own = { baseDomain: t.deps.config.baseDomain, apiDomain: o.apiDomain ?? null };
  const edge = t.deps.edge;
  const check = domainChecks({ repo, verify, noCertificate, edge, own, now });
  const checker = new DomainChecker({
    repo,
    guard,
    check,
    issuer,
    noCertificate,
    own,
    edge,
    log: createLogger('error'),
    now,
  });
  return { repo, guard, check, checker };
}

function insert(hostname: string, fields: Partial<DomainRow> = {}): DomainRow {
  const row: DomainRow = {
    id: `dom_${hostname.replace(/\W/g, '')}`,
    project_id: t.deps.projects.get('web').id,
    hostname,
    redirect_to_https: 1,
    hsts: 0,
    status: 'pending_dns',
    reason: null,
    attempts: 0,
    next_attempt_at: iso(clock),
    last_check: null,
    ownership_token: null,
    proven_at: null,
    created_at: iso(clock),
    updated_at: iso(clock),
    ...fields,
  };
  domainRepo(t.deps.db).insert(row);
  return row;
}

beforeEach(() => {
  t.deps.db.exec('DELETE FROM domains');
});

describe('DomainChecker', () => {
  test('backs off 30 s, 1 min, 2 min … up to an hour between checks of a pending domain', async () => {
    expect([1, 2, 3, 4, 8, 20].map(retryDelayMs)).toEqual([30_000, 60_000, 120_000, 240_000, 3_600_000, 3_600_000]);
    const { repo, checker } = parts();
    const row = insert('elsewhere.example.test');
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      await checker.pass();
      const after = repo.byId(row.id)!;
      expect(after.status).toBe('pending_dns');
      expect(after.attempts).toBe(i + 1);
      waits.push(Date.parse(after.next_attempt_at!) - clock);
      // Not due yet: a pass before next_attempt_at leaves it alone.
      clock += waits.at(-1)! - 1000;
      await checker.pass();
      expect(repo.byId(row.id)!.attempts).toBe(i + 1);
      clock += 1000;
    }
    expect(waits).toEqual([30_000, 60_000, 120_000, 240_000]);
  });

  test('hands a domain that passes its check to the issuer, under the guard', async () => {
    const issued: { hostname: string; status: string; work: string | undefined }[] = [];
    const { repo, guard, checker } = parts({
      issuer: {
        async issue(domain) {
          issued.push({ hostname: domain.hostname, status: domain.status, work: guard.current(domain.id)?.work });
          repo.setStatus(domain.id, { status: 'issuing', reason: null, next_attempt_at: null }, ['verified']);
          repo.setStatus(domain.id, { status: 'active', reason: null, next_attempt_at: null, attempts: 0 }, [
            'issuing',
          ]);
        },
      },
    });
    const row = insert('good.example.test', { attempts: 3 });
    await checker.pass();
    expect(issued).toEqual([{ hostname: 'good.example.test', status: 'verified', work: 'issue' }]);
    expect(repo.byId(row.id)).toMatchObject({ status: 'active', attempts: 0, next_attempt_at: null });
    expect(JSON.parse(repo.byId(row.id)!.last_check!)).toMatchObject({ method: 'dns', message: 'points to 127.0.0.1' });
    // Active domains are the certificate service's: the checker leaves them alone.
    await checker.pass();
    expect(issued).toHaveLength(1);
  });

  test('an issuer that throws fails the domain with its message and a retry time', async () => {
    const { repo, checker } = parts({
      issuer: {
        async issue() {
          throw new Error('the CA is unreachable');
        },
      },
    });
    const row = insert('good.example.test', { status: 'verified' });
    await checker.pass();
    expect(repo.byId(row.id)).toMatchObject({
      status: 'failed',
      reason: 'Cannot order a certificate for good.example.test: the CA is unreachable',
      attempts: 1,
      next_attempt_at: iso(clock + 30_000),
    });
  });

  test('a failed domain is checked again when due, then handed over again', async () => {
    const calls: string[] = [];
    const { repo, checker } = parts({
      issuer: {
        async issue(domain) {
          calls.push(domain.status);
          repo.setStatus(
            domain.id,
            {
              status: 'failed',
              reason: 'The CA refused',
              next_attempt_at: iso(clock + 60_000),
              attempts: domain.attempts + 1,
            },
            ['verified'],
          );
        },
      },
    });
    const row = insert('good.example.test', { status: 'failed', attempts: 2, next_attempt_at: iso(clock + 10_000) });
    await checker.pass();
    expect(calls).toEqual([]);
    clock += 10_000;
    await checker.pass();
    expect(calls).toEqual(['verified']);
    // The check kept the count of failed orders, so the issuer's backoff grows.
    expect(repo.byId(row.id)).toMatchObject({ status: 'failed', attempts: 3 });
  });

  test('an issuer that leaves the domain due is deferred, not called again at once', async () => {
    let calls = 0;
    const { repo, checker } = parts({ issuer: { issue: async () => void calls++ } });
    const row = insert('good.example.test', { status: 'verified' });
    await checker.pass();
    await checker.pass();
    expect(calls).toBe(1);
    expect(repo.byId(row.id)).toMatchObject({ status: 'verified', attempts: 1, next_attempt_at: iso(clock + 30_000) });
  });

  test('without an issuer a verified domain stays verified, says why, and is checked again hourly', async () => {
    const { repo, checker } = parts();
    const row = insert('good.example.test');
    await checker.pass();
    expect(repo.byId(row.id)).toMatchObject({
      status: 'verified',
      reason:
        'No certificate is ordered: this agent runs no certificate service; good.example.test is served over HTTP only',
      next_attempt_at: iso(clock + 3_600_000),
    });
  });

  test('never runs two checks of one domain at once; a verify meanwhile joins the running one', async () => {
    let running = 0;
    let most = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const verify: Verifier = async () => {
      running++;
      most = Math.max(most, running);
      await gate;
      running--;
      return {
        ok: false,
        reason: 'Not yet',
        check: { at: iso(clock), method: 'dns', addresses: [], message: 'nothing' },
      };
    };
    const { repo, guard, check, checker } = parts({ verify });
    const row = insert('slow.example.test');
    const first = checker.pass();
    const second = checker.pass();
    expect(guard.current(row.id)?.work).toBe('check');
    // The API's verify goes through the same guard: it waits for the running check.
    const joined = (async () => {
      const r = guard.current(row.id)!;
      await r.done;
      return repo.byId(row.id)!.attempts;
    })();
    expect(guard.tryRun(row.id, 'check', () => check(row.id))).toBeNull();
    release();
    await Promise.all([first, second]);
    expect(await joined).toBe(1);
    expect(most).toBe(1);
  });

  test('at start, a verified domain gets the reason of the current settings, and one left issuing goes back to the issuer', async () => {
    const issued: string[] = [];
    const { repo, checker } = parts({ issuer: { issue: async (d) => void issued.push(`${d.hostname} ${d.status}`) } });
    insert('stale.example.test', {
      status: 'verified',
      reason: 'No certificate is ordered: old settings',
      next_attempt_at: iso(clock + 3_600_000),
    });
    insert('half.example.test', { status: 'issuing', next_attempt_at: null });
    checker.start();
    await checker.stop();
    expect(repo.byHostname('stale.example.test')).toMatchObject({ status: 'verified', reason: null });
    expect(issued).toContain('half.example.test issuing');
  });

  test("a domain whose name is now one of the agent's own fails for good and leaves the edge, at start and in each pass", async () => {
    const { repo, checker } = parts({ apiDomain: 'slipway.example.test' });
    const reader = new RouteStoreReader(routeStoreFile(t.dir));
    onTestFinished(() => reader.close());
    const routed = () => (reader.snapshot()?.hosts ?? []).map((h) => h.hostname);
    const row = insert('slipway.example.test', { status: 'active', next_attempt_at: null });
    t.deps.edge.putHost({ hostname: row.hostname, project: 'web', redirectToHttps: true, hsts: false });
    expect(routed()).toContain('slipway.example.test');
    checker.start();
    await checker.stop();
    const reason =
      "slipway.example.test is now one of the agent's own names (it is the agent's API domain (SLIPWAY_API_DOMAIN)); remove this domain";
    expect(repo.byHostname('slipway.example.test')).toMatchObject({ status: 'failed', reason, next_attempt_at: null });
    expect(routed()).not.toContain('slipway.example.test');
    // A pass neither checks it again nor brings it back; one added meanwhile (a settings change under a running agent) is retired too.
    insert(`under.${t.deps.config.baseDomain}`, { status: 'verified' });
    await checker.pass();
    expect(repo.byHostname('slipway.example.test')).toMatchObject({ status: 'failed', reason, last_check: null });
    expect(repo.byHostname(`under.${t.deps.config.baseDomain}`)).toMatchObject({
      status: 'failed',
      next_attempt_at: null,
    });
  });
});
