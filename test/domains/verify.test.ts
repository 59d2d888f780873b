/**
 * Domain verification against a real DNS server (pebble-challtestsrv) and, for the HTTP
 * self-check, a real HTTP listener on the edge's port answering from the route store.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { RouteStoreReader } from '../../src/edge/route-store-reader.ts';
import { routeStoreFile } from '../../src/edge/layout.ts';
import { selfCheckAllowed } from '../../src/domains/addresses.ts';
import { dnsLookup, dnsTxtLookup } from '../../src/domains/resolve.ts';
import { domainVerifier } from '../../src/domains/verify.ts';
import { startEdge } from '../../src/edge/runtime.ts';
import { createLogger } from '../../src/log.ts';
import { startAcmeServers } from '../helpers/acme.ts';
import { makeTestApp, type TestApp, TEST_ACTOR } from '../helpers/app.ts';
import { startChallengeResponder, type ChallengeResponder } from './challenge-responder.ts';
import { freePorts, startTestDns, type TestDns } from './dns-server.ts';

type Domain = {
  status: string;
  reason: string | null;
  next_attempt_at: string | null;
  last_check: { method: string; addresses: string[]; message: string } | null;
};

let dns: TestDns;
let responder: ChallengeResponder;
/** The edge of `direct`: same port, another address, so only `natted`'s edge answers on 127.0.0.1. */
let directEdge: ChallengeResponder;
/** Public address 127.0.0.1: names pointing there pass on DNS alone. */
let direct: TestApp;
/** Public address 127.0.0.9, edge (the responder) on 127.0.0.1: names pointing at 127.0.0.1 pass only over HTTP. */
let natted: TestApp;

beforeAll(async () => {
  dns = await startTestDns();
  responder = startChallengeResponder();
  directEdge = startChallengeResponder(responder.port, '127.0.0.5');
  const env = {
    SLIPWAY_DNS_SERVERS: dns.server,
    SLIPWAY_HTTP_LISTEN: `127.0.0.1:${responder.port}`,
    SLIPWAY_ACME_DIRECTORY: 'off',
  };
  direct = makeTestApp({ ...env, SLIPWAY_PUBLIC_IPS: '127.0.0.1' });
  natted = makeTestApp({ ...env, SLIPWAY_PUBLIC_IPS: '127.0.0.9' });
  responder.serve(natted.dir);
  directEdge.serve(direct.dir);
  for (const t of [direct, natted]) t.deps.projects.create(TEST_ACTOR, { name: 'web' });
  await dns.addA('good.example.test', ['127.0.0.1']);
  await dns.addA('elsewhere.example.test', ['127.0.0.2']);
  await dns.addA('mixed.example.test', ['127.0.0.1', '127.0.0.2']);
  await dns.addCname('www.example.test', 'cdn.example.test');
  await dns.addCname('cdn.example.test', 'good.example.test');
  await dns.addCname('dangling.example.test', 'gone.example.test');
  await dns.addA('nat.example.test', ['127.0.0.1']);
  await dns.addA('wrong.example.test', ['127.0.0.3']);
});
afterAll(async () => {
  direct?.close();
  natted?.close();
  responder?.stop();
  directEdge?.stop();
  await dns?.stop();
});

async function add(t: TestApp, hostname: string): Promise<Domain> {
  const res = await t.req('POST', '/v1/projects/web/domains', { body: { hostname } });
  expect(res.status).toBe(201);
  return (await res.json()) as Domain;
}

describe('verification through the DNS server', () => {
  test('a name pointing at a public address of the agent becomes verified', async () => {
    const d = await add(direct, 'good.example.test');
    expect(d).toMatchObject({
      status: 'verified',
      last_check: { method: 'dns', addresses: ['127.0.0.1'], message: 'points to 127.0.0.1' },
    });
    // No HTTPS listener here: the domain routes over HTTP and says why it gets no certificate.
    expect(d.reason).toBe(
      'No certificate is ordered: the edge has no HTTPS listener (SLIPWAY_HTTPS_LISTEN is off); good.example.test is served over HTTP only',
    );
  });

  test('a name pointing elsewhere stays pending_dns with the reason, the address found and the next attempt', async () => {
    const before = Date.now();
    const d = await add(direct, 'elsewhere.example.test');
    expect(d.status).toBe('pending_dns');
    expect(d.reason).toStartWith('elsewhere.example.test points to 127.0.0.2, not to this server (127.0.0.1)');
    expect(d.last_check).toMatchObject({ addresses: ['127.0.0.2'], message: 'points to 127.0.0.2' });
    const next = Date.parse(d.next_attempt_at!);
    expect(next - before).toBeGreaterThanOrEqual(29_000);
    expect(next - Date.now()).toBeLessThanOrEqual(30_000);
  });

  test('a name with one address of the agent and one elsewhere is not verified', async () => {
    const d = await add(direct, 'mixed.example.test');
    expect(d.status).toBe('pending_dns');
    expect(d.reason).toStartWith(
      'mixed.example.test points to 127.0.0.1 and 127.0.0.2, not to this server (127.0.0.1)',
    );
  });

  test('a CNAME chain that ends at a good name verifies and is shown', async () => {
    const d = await add(direct, 'www.example.test');
    expect(d).toMatchObject({
      status: 'verified',
      last_check: {
        method: 'dns',
        addresses: ['127.0.0.1'],
        message: 'is an alias of cdn.example.test, then good.example.test, which points to 127.0.0.1',
      },
    });
  });

  test('a name without records says which records to create', async () => {
    const d = await add(direct, 'nothing.example.test');
    expect(d).toMatchObject({
      status: 'pending_dns',
      reason:
        'No A, AAAA or CNAME record found for nothing.example.test: create an A record for nothing.example.test pointing to 127.0.0.1',
      last_check: { method: 'dns', addresses: [], message: 'no A, AAAA or CNAME record found' },
    });
  });

  test('an alias whose target has no address says so', async () => {
    const d = await add(direct, 'dangling.example.test');
    expect(d.status).toBe('pending_dns');
    expect(d.reason).toBe(
      'dangling.example.test is an alias of gone.example.test, which has no A or AAAA record: create an A record for dangling.example.test pointing to 127.0.0.1',
    );
  });

  test('verify re-runs the checks once DNS is fixed', async () => {
    await add(direct, 'later.example.test');
    await dns.addA('later.example.test', ['127.0.0.1']);
    const res = await direct.req('POST', '/v1/projects/web/domains/later.example.test/verify');
    expect(res.status).toBe(200);
    expect(((await res.json()) as Domain).status).toBe('verified');
  });

  test('a DNS server that does not answer is a failed lookup, not a missing record', async () => {
    const [silent] = freePorts(1);
    const verify = domainVerifier({
      lookup: dnsLookup([`127.0.0.1:${silent}`], 300),
      lookupTxt: dnsTxtLookup([`127.0.0.1:${silent}`]),
      publicIps: () => ['127.0.0.1'],
      selfCheck: { unavailable: 'not in this test' },
    });
    const verdict = await verify('good.example.test');
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? '' : verdict.reason).toMatch(
      new RegExp(
        `^Cannot look up good\\.example\\.test: the DNS server 127\\.0\\.0\\.1:${silent} (did not answer in time|refused the connection)$`,
      ),
    );
  });
});

describe('the HTTP self-check', () => {
  test('passes when the name points to an address that is not a public one but reaches this edge', async () => {
    responder.hosts.length = 0;
    const d = await add(natted, 'nat.example.test');
    expect(d).toMatchObject({
      status: 'verified',
      last_check: {
        method: 'http',
        addresses: ['127.0.0.1'],
        message: 'points to 127.0.0.1, which reaches this server over HTTP',
      },
    });
    expect(responder.hosts).toEqual([`nat.example.test:${responder.port}`]);
  });

  test('removes its challenge from the route store afterwards', () => {
    const reader = new RouteStoreReader(routeStoreFile(natted.dir));
    expect(reader.snapshot()!.challenges).toEqual([]);
    reader.close();
  });

  test('fails cleanly when nothing answers at the address the name points to', async () => {
    const d = await add(natted, 'wrong.example.test');
    expect(d).toMatchObject({
      status: 'pending_dns',
      reason:
        'wrong.example.test points to 127.0.0.3, not to this server (127.0.0.9); an HTTP request for it did not reach this server either (through 127.0.0.3, the connection was refused)',
      last_check: { method: 'http', addresses: ['127.0.0.3'] },
    });
  });

  test('fails when another server answers there without the token', async () => {
    const other = Bun.serve({ hostname: '127.0.0.4', port: responder.port, fetch: () => new Response('hello') });
    try {
      await dns.addA('impostor.example.test', ['127.0.0.4']);
      const d = await add(natted, 'impostor.example.test');
      expect(d.status).toBe('pending_dns');
      expect(d.reason).toEndWith("(through 127.0.0.4, the answer was not this server's token)");
    } finally {
      other.stop(true);
    }
  });

  test('never connects to a loopback address when the public addresses are not loopback ones', async () => {
    const verify = domainVerifier({
      lookup: dnsLookup([dns.server]),
      lookupTxt: dnsTxtLookup([dns.server]),
      publicIps: () => ['203.0.113.7'],
      selfCheck: { edge: natted.deps.edge, port: responder.port, timeoutMs: 1000, applyTimeoutMs: 1000 },
    });
    responder.hosts.length = 0;
    const verdict = await verify('nat.example.test');
    expect(verdict).toMatchObject({
      ok: false,
      reason:
        'nat.example.test points to 127.0.0.1, not to this server (203.0.113.7); no HTTP check: 127.0.0.1 is a loopback address, which reaches no server but the one asking',
      check: { method: 'dns' },
    });
    expect(responder.hosts).toEqual([]);
  });
});

describe('through the ACME harness', () => {
  test("the agent's DNS view of test/helpers/acme.ts verifies a name pointed at the agent and not one pointed elsewhere", async () => {
    const acme = await startAcmeServers();
    try {
      await acme.pointBoth('shop.example.test', ['127.0.0.1']);
      await acme.agentDns.addA('away.example.test', ['127.0.0.2']);
      const verify = domainVerifier({
        lookup: dnsLookup([acme.agentDnsServer]),
        lookupTxt: dnsTxtLookup([acme.agentDnsServer]),
        publicIps: () => ['127.0.0.1'],
        selfCheck: { unavailable: 'not in this test' },
      });
      expect(await verify('shop.example.test')).toMatchObject({ ok: true, check: { addresses: ['127.0.0.1'] } });
      expect(await verify('away.example.test')).toMatchObject({
        ok: false,
        reason: expect.stringMatching(
          /^away\.example\.test points to 127\.0\.0\.2, not to this server \(127\.0\.0\.1\); /,
        ),
      });
    } finally {
      await acme.stop();
    }
  });
});

describe('through the real edge', () => {
  test('the self-check reaches the edge at the address the name points to, and the edge answers the token', async () => {
    const [port] = freePorts(1);
    const t = makeTestApp({
      SLIPWAY_DNS_SERVERS: dns.server,
      SLIPWAY_PUBLIC_IPS: '127.0.0.9',
      SLIPWAY_HTTP_LISTEN: `127.0.0.1:${port}`,
    });
    const edge = startEdge(t.deps.config, createLogger('error'));
    try {
      t.deps.projects.create(TEST_ACTOR, { name: 'web' });
      await dns.addA('edge.example.test', ['127.0.0.1']);
      const d = await add(t, 'edge.example.test');
      expect(d).toMatchObject({
        status: 'verified',
        last_check: { method: 'http', message: 'points to 127.0.0.1, which reaches this server over HTTP' },
      });
      await dns.addA('edge-elsewhere.example.test', ['127.0.0.3']);
      const away = await add(t, 'edge-elsewhere.example.test');
      expect(away.status).toBe('pending_dns');
      expect(away.reason).toEndWith('(through 127.0.0.3, the connection was refused)');
    } finally {
      await edge.stop();
      t.close();
    }
  });
});

describe('where the self-check may connect', () => {
  test.each([
    ['10.1.2.3', false],
    ['172.17.0.2', false],
    ['192.168.1.10', false],
    ['100.64.0.1', false],
    ['169.254.169.254', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['fd00::1', false],
    ['fe80::1', false],
    ['ff02::1', false],
    ['::', false],
    ['::ffff:10.1.2.3', false],
    ['64:ff9b::a01:203', false],
    ['127.0.0.1', false],
    ['::1', false],
    ['198.51.100.4', true],
    ['2001:db8::1', true],
    ['203.0.113.7', true],
  ])('with public address 203.0.113.7, %p is %p', (ip, allowed) => {
    expect(selfCheckAllowed(ip, ['203.0.113.7'])).toBe(allowed);
  });

  test("a private address listed as one of the agent's own is allowed, and loopback is when the agent's are", () => {
    expect(selfCheckAllowed('10.1.2.3', ['10.1.2.3'])).toBe(true);
    expect(selfCheckAllowed('127.0.0.3', ['127.0.0.9'])).toBe(true);
  });

  test('a name pointing to a private address is not probed and the reason does not say which network', async () => {
    await dns.addA('internal.example.test', ['10.1.2.3']);
    const verify = domainVerifier({
      lookup: dnsLookup([dns.server]),
      lookupTxt: dnsTxtLookup([dns.server]),
      publicIps: () => ['203.0.113.7'],
      selfCheck: { edge: natted.deps.edge, port: responder.port, timeoutMs: 1000, applyTimeoutMs: 1000 },
    });
    const verdict = await verify('internal.example.test');
    expect(verdict).toMatchObject({
      ok: false,
      reason:
        'internal.example.test points to 10.1.2.3, not to this server (203.0.113.7); no HTTP check: it points to a private address',
      check: { method: 'dns' },
    });
  });
});
