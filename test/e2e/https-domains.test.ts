/**
 * Issue 11 end to end: a real `slipway serve` with its HTTPS edge on, a real ACME CA (Pebble, with
 * its test DNS servers) and a real app in Docker. A domain goes from the API to a certificate
 * served by SNI; HTTP redirects; a renewal swaps the certificate under load; a name that points
 * elsewhere and a challenge the CA cannot reach end where the user can see why.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Agent as HttpsAgent } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { type AcmeServers, startAcmeServers } from '../helpers/acme.ts';
import { type Agent, retireAgent, startAgent, viaEdge, waitForStatus } from '../helpers/agent.ts';
import { tgzOf } from '../helpers/archives.ts';
import { requireDocker } from '../helpers/docker.ts';
import { handshake, httpsRequest } from '../edge/tls-helpers.ts';

const P = `shop-${crypto.randomUUID().slice(0, 6)}`;
const SHOP = 'shop.example.test';
const WWW = 'www.example.test';

const hasDocker = await requireDocker();
let acme: AcmeServers;
let agent: Agent;
/** Pebble's root and intermediate: what a visitor's browser would trust. */
let roots = '';

interface DomainView {
  hostname: string;
  status: string;
  reason: string | null;
  next_attempt_at: string | null;
  last_check: { addresses: string[]; message: string } | null;
  certificate: { serial: string; issuer: string; not_after: string } | null;
}

beforeAll(async () => {
  if (!hasDocker) return;
  acme = await startAcmeServers();
  agent = await startAgent({
    httpPort: acme.httpPort,
    env: {
      SLIPWAY_HTTPS_LISTEN: '127.0.0.1:0',
      SLIPWAY_ACME_DIRECTORY: acme.directoryUrl,
      SLIPWAY_ACME_CA_FILE: acme.caFile,
      SLIPWAY_DNS_SERVERS: acme.agentDnsServer,
      SLIPWAY_PUBLIC_IPS: '127.0.0.1',
    },
  });
  roots = await acme.rootPem();
  expect((await agent.call('POST', '/v1/projects', { name: P })).status).toBe(201);
  const upload = tgzOf([{ name: 'index.html', body: '<h1>the shop</h1>' }]);
  const res = await agent.call('POST', `/v1/projects/${P}/deployments`, upload, { 'content-type': 'application/gzip' });
  const dep = (await res.json()) as { id: string };
  expect((await waitForStatus(agent, P, dep.id, ['live', 'failed'])).status).toBe('live');
});

afterAll(async () => {
  if (!hasDocker) return;
  await retireAgent(agent, [P]);
  await acme.stop();
});

async function domain(hostname: string): Promise<DomainView> {
  const res = await agent.call('GET', `/v1/projects/${P}/domains/${hostname}`);
  expect(res.status).toBe(200);
  return (await res.json()) as DomainView;
}

/** Polls the domain until `done` holds (the checker runs every few seconds); returns it. */
async function domainUntil(hostname: string, done: (d: DomainView) => boolean, ms = 60_000): Promise<DomainView> {
  const deadline = Date.now() + ms;
  for (;;) {
    const d = await domain(hostname);
    if (done(d)) return d;
    if (Date.now() > deadline) throw new Error(`${hostname} is still ${JSON.stringify(d)}`);
    await Bun.sleep(250);
  }
}

async function addDomain(hostname: string): Promise<DomainView> {
  const res = await agent.call('POST', `/v1/projects/${P}/domains`, { hostname });
  expect(res.status).toBe(201);
  return (await res.json()) as DomainView;
}

describe.skipIf(!hasDocker)('a custom domain with automatic HTTPS', () => {
  test('added, verified through DNS, issued by the CA and served over HTTPS by SNI', async () => {
    await addDomain(SHOP);
    const active = await domainUntil(SHOP, (d) => d.status === 'active');
    expect(active.reason).toBeNull();
    expect(active.certificate?.issuer).toContain('Pebble');

    const res = await httpsRequest(agent.httpsPort!, SHOP, roots);
    expect(res.status).toBe(200);
    expect(res.body).toBe('<h1>the shop</h1>');
    const hs = await handshake(agent.httpsPort!, SHOP, roots);
    const served = new X509Certificate(hs.socket.getPeerX509Certificate()!.raw);
    hs.socket.destroy();
    expect(served.checkHost(SHOP)).toBe(SHOP);
    expect(served.serialNumber.toLowerCase()).toBe(active.certificate!.serial.replaceAll(':', '').toLowerCase());
  });

  test('plain HTTP redirects to HTTPS once the certificate is active: 301 for GET, 308 for POST', async () => {
    const get = await viaEdge(agent.edgePort!, SHOP, '/cart?x=1', { redirect: 'manual' });
    expect(get.status).toBe(301);
    expect(get.headers.get('location')).toBe(`https://${SHOP}:${agent.httpsPort}/cart?x=1`);
    const post = await viaEdge(agent.edgePort!, SHOP, '/cart', { method: 'POST', body: 'x', redirect: 'manual' });
    expect(post.status).toBe(308);
    // The project's own name has no certificate here (localhost is not a public base domain): no redirect.
    expect((await viaEdge(agent.edgePort!, `${P}.localhost`, '/', { redirect: 'manual' })).status).toBe(200);
  });

  test('a second domain on the same edge gets a certificate of its own, picked by SNI', async () => {
    await addDomain(WWW);
    await domainUntil(WWW, (d) => d.status === 'active');
    const shop = await handshake(agent.httpsPort!, SHOP, roots);
    const www = await handshake(agent.httpsPort!, WWW, roots);
    const shopCert = shop.socket.getPeerX509Certificate()!;
    const wwwCert = www.socket.getPeerX509Certificate()!;
    shop.socket.destroy();
    www.socket.destroy();
    expect(shopCert.serialNumber).not.toBe(wwwCert.serialNumber);
    expect(wwwCert.checkHost(WWW)).toBe(WWW);
    expect(wwwCert.checkHost(SHOP)).toBeUndefined();
    expect((await httpsRequest(agent.httpsPort!, WWW, roots)).body).toBe('<h1>the shop</h1>');
  });

  test('a renewal swaps the certificate while a constant HTTPS load sees no failed request', async () => {
    const before = (await domain(SHOP)).certificate!.serial;
    const keepAlive = new HttpsAgent({ keepAlive: true, maxSockets: 4 });
    let ok = 0;
    const failures: string[] = [];
    let loading = true;
    const worker = async (fresh: boolean) => {
      while (loading) {
        try {
          const res = await httpsRequest(agent.httpsPort!, SHOP, roots, fresh ? {} : { agent: keepAlive });
          if (res.status === 200 && res.body === '<h1>the shop</h1>') ok += 1;
          else failures.push(`status ${res.status}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const load = [worker(false), worker(false), worker(true), worker(true)];
    await Bun.sleep(300);
    const renew = await agent.call('POST', `/v1/projects/${P}/domains/${SHOP}/certificate/renew`);
    expect(renew.status).toBeLessThan(300);
    const renewed = await domainUntil(SHOP, (d) => d.certificate !== null && d.certificate.serial !== before);
    // New handshakes get the new certificate once the edge applied it.
    const deadline = Date.now() + 10_000;
    let servedSerial = '';
    const wanted = renewed.certificate!.serial.replaceAll(':', '').toLowerCase();
    while (servedSerial !== wanted && Date.now() < deadline) {
      const hs = await handshake(agent.httpsPort!, SHOP, roots);
      servedSerial = hs.socket.getPeerX509Certificate()!.serialNumber.toLowerCase();
      hs.socket.destroy();
      if (servedSerial !== wanted) await Bun.sleep(100);
    }
    await Bun.sleep(300);
    loading = false;
    await Promise.all(load);
    keepAlive.destroy();
    expect(servedSerial).toBe(wanted);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(20);
  });

  test('a name that points elsewhere stays pending_dns, saying where it points', async () => {
    await acme.agentDns.addA('elsewhere.example.test', ['127.0.0.2']);
    const added = await addDomain('elsewhere.example.test');
    expect(added.status).toBe('pending_dns');
    expect(added.reason).toContain('127.0.0.2');
    expect(added.last_check?.addresses).toEqual(['127.0.0.2']);
    expect(added.next_attempt_at).not.toBeNull();
    expect(added.certificate).toBeNull();
  });

  test("a challenge the CA cannot reach ends in failed, with the CA's message and a retry time", async () => {
    // The agent sees the name on this host; the CA's DNS view sends it to 127.0.0.2, where nothing listens.
    await acme.caDns.addA('refused.example.test', ['127.0.0.2']);
    await addDomain('refused.example.test');
    const failed = await domainUntil('refused.example.test', (d) => d.status === 'failed');
    expect(failed.reason).toContain('connection refused');
    expect(Date.parse(failed.next_attempt_at!)).toBeGreaterThan(Date.now());
    // Nothing was served for it in the meantime: the handshake for the name fails.
    await expect(handshake(agent.httpsPort!, 'refused.example.test', roots)).rejects.toThrow();
  });
});
