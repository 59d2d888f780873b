import { afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { errorOf } from '../helpers/app.ts';
import { type CertificateAgent, certificateAgent, type MadeCertificate, makeCertificate } from './helpers.ts';

let agent: CertificateAgent | null = null;
let shop: MadeCertificate;
let other: MadeCertificate;
let wildcard: MadeCertificate;

beforeAll(async () => {
  [shop, other, wildcard] = await Promise.all([
    makeCertificate(['shop.example.com', 'www.shop.example.com']),
    makeCertificate(['other.example.com']),
    makeCertificate(['*.apps.example.com']),
  ]);
});
afterEach(async () => {
  await agent?.stop();
  agent = null;
});

const DAY = 24 * 3600 * 1000;
const PATH = '/v1/projects/web/domains/shop.example.com/certificate';

function upload(a: CertificateAgent, cert: MadeCertificate, path = PATH, token?: string) {
  return a.req('PUT', path, { body: { certificate: cert.certificate, private_key: cert.privateKey }, token });
}

describe('uploaded certificates', () => {
  test("a domain's own certificate is stored sealed, served at once, and the domain becomes active", async () => {
    agent = certificateAgent(null);
    agent.addDomain('web', 'shop.example.com', 'pending_dns');
    const res = await upload(agent, shop);
    expect(res.status).toBe(200);
    const leaf = new X509Certificate(shop.certificate);
    expect(await res.json()).toEqual({
      hostname: 'shop.example.com',
      project: 'web',
      source: 'uploaded',
      issuer: 'Slipway upload test',
      serial: leaf.serialNumber.toUpperCase(),
      not_before: new Date(leaf.validFrom).toISOString(),
      not_after: new Date(leaf.validTo).toISOString(),
      days_left: 89,
      renew_at: null,
      renewal: { failures: 0, last_error: null, next_attempt_at: null },
    });
    expect(agent.domains.byHostname('shop.example.com')).toMatchObject({ status: 'active', reason: null });
    const stored = agent.certificates.find('shop.example.com')!;
    expect(stored.key_sealed).not.toContain('PRIVATE KEY');
    const [served] = agent.snapshot().certificates;
    expect(served!.hostname).toBe('shop.example.com');
    expect(leaf.checkPrivateKey(createPrivateKey(served!.keyPem))).toBe(true);
    const [row] = agent.deps.activity.list({ limit: 10, only: null, action: 'certificate.upload' }).data;
    expect(row).toMatchObject({ target: 'shop.example.com', project: 'web', token: { name: 'admin' } });
    expect(JSON.stringify(row)).not.toContain('PRIVATE');
  });

  test('what is wrong with an upload is a 422 that says so', async () => {
    agent = certificateAgent(null);
    agent.addDomain('web', 'shop.example.com', 'pending_dns');
    const notPem = { certificate: 'hello', privateKey: shop.privateKey };
    const brokenBlock = {
      certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      privateKey: shop.privateKey,
    };
    const cases: [string, MadeCertificate, string][] = [
      ['not PEM', notPem, 'The certificate is not PEM: expected -----BEGIN CERTIFICATE----- blocks'],
      [
        'a broken block',
        brokenBlock,
        'The certificate cannot be read: block 1 of the chain is not an X.509 certificate',
      ],
      [
        'a key that is not PEM',
        { certificate: shop.certificate, privateKey: 'secret' },
        'The private key cannot be read: expected an unencrypted PEM private key',
      ],
      [
        "another certificate's key",
        { certificate: shop.certificate, privateKey: other.privateKey },
        'The private key does not match the certificate',
      ],
      ['a certificate for another name', other, 'The certificate does not cover shop.example.com'],
    ];
    for (const [what, cert, message] of cases) {
      const res = await upload(agent, cert);
      expect({ what, status: res.status, message: (await errorOf(res)).message }).toEqual({
        what,
        status: 422,
        message,
      });
    }
    expect(agent.certificates.find('shop.example.com')).toBeUndefined();
    expect(agent.domains.byHostname('shop.example.com')!.status).toBe('pending_dns');
  });

  test('an expired certificate, or one not valid yet, is refused', async () => {
    agent = certificateAgent(null);
    agent.addDomain('web', 'shop.example.com');
    const leaf = new X509Certificate(shop.certificate);
    agent.clock.advance(91 * DAY);
    let res = await upload(agent, shop);
    expect(res.status).toBe(422);
    expect((await errorOf(res)).message).toBe(`The certificate expired on ${new Date(leaf.validTo).toISOString()}`);
    agent.clock.advance(-92 * DAY);
    res = await upload(agent, shop);
    expect(res.status).toBe(422);
    expect((await errorOf(res)).message).toBe(
      `The certificate is not valid before ${new Date(leaf.validFrom).toISOString()}`,
    );
  });

  test('an upload for a domain of another project, or no domain, is a 404', async () => {
    agent = certificateAgent(null);
    agent.addDomain('api', 'shop.example.com');
    agent.addDomain('web', 'www.shop.example.com');
    let res = await upload(agent, shop);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toBe('No domain "shop.example.com" in project "web"');
    res = await upload(agent, shop, '/v1/projects/web/domains/SHOP.example.com./certificate');
    expect((await errorOf(res)).message).toBe('No domain "shop.example.com" in project "web"');
    res = await upload(agent, shop, '/v1/projects/web/domains/WWW.Shop.Example.Com/certificate');
    expect(res.status).toBe(200);
  });

  test('removing it stops serving it and sends the domain back to verification', async () => {
    agent = certificateAgent(null);
    agent.addDomain('web', 'shop.example.com');
    await upload(agent, shop);
    let res = await agent.req('DELETE', PATH);
    expect(res.status).toBe(204);
    expect(agent.certificates.find('shop.example.com')).toBeUndefined();
    expect(agent.snapshot().certificates).toEqual([]);
    expect(agent.domains.byHostname('shop.example.com')).toMatchObject({
      status: 'pending_dns',
      next_attempt_at: null,
    });
    res = await agent.req('DELETE', PATH);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toBe('Domain "shop.example.com" has no certificate');
  });

  test('an uploaded certificate is never renewed, and shows on /metrics as it nears expiry', async () => {
    agent = certificateAgent(null);
    agent.addDomain('web', 'shop.example.com');
    await upload(agent, shop);
    const expiring = 'slipway_certificate_expiring{hostname="shop.example.com",source="uploaded"}';
    let metrics = await (await agent.req('GET', '/metrics')).text();
    expect(metrics).toContain(`${expiring} 0`);
    const notAfter = Math.floor(Date.parse(agent.certificates.find('shop.example.com')!.not_after) / 1000);
    expect(metrics).toContain(
      `slipway_certificate_not_after_seconds{hostname="shop.example.com",source="uploaded"} ${notAfter}`,
    );
    expect(metrics).not.toContain('slipway_certificate_renewal_failures{hostname="shop.example.com"');

    agent.clock.advance(80 * DAY);
    await agent.deps.certificates.pass();
    expect(agent.deps.db.prepare('SELECT COUNT(*) AS n FROM acme_orders').get()).toEqual({ n: 0 });
    metrics = await (await agent.req('GET', '/metrics')).text();
    expect(metrics).toContain(`${expiring} 1`);
    expect(agent.logLines.some((l) => l.includes('"certificate expires soon"') && l.includes('shop.example.com'))).toBe(
      true,
    );
  });

  test('GET /v1/certificates lists them, and a project-limited token sees only its projects', async () => {
    agent = certificateAgent(null);
    agent.addDomain('web', 'shop.example.com');
    agent.addDomain('api', 'other.example.com');
    await upload(agent, shop);
    await upload(agent, other, '/v1/projects/api/domains/other.example.com/certificate');
    const all = (await (await agent.req('GET', '/v1/certificates')).json()) as { data: { hostname: string }[] };
    expect(all.data.map((c) => c.hostname)).toEqual(['other.example.com', 'shop.example.com']);
    const webOnly = agent.token({ name: 'web', scope: 'read', projects: ['web'] });
    const mine = (await (await agent.req('GET', '/v1/certificates', { token: webOnly })).json()) as {
      data: { hostname: string; project: string }[];
    };
    expect(mine.data.map((c) => [c.hostname, c.project])).toEqual([['shop.example.com', 'web']]);
  });
});

describe("the base domain's wildcard", () => {
  const env = { SLIPWAY_BASE_DOMAIN: 'apps.example.com' };
  const put = (a: CertificateAgent, cert: MadeCertificate) =>
    a.req('PUT', '/v1/certificates/base-domain', {
      body: { certificate: cert.certificate, private_key: cert.privateKey },
    });

  test('is stored under *.<base-domain> and served, then shown and removed', async () => {
    agent = certificateAgent(null, env);
    let res = await put(agent, wildcard);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ hostname: '*.apps.example.com', project: null, source: 'uploaded' });
    expect(agent.snapshot().certificates.map((c) => c.hostname)).toEqual(['*.apps.example.com']);
    res = await agent.req('GET', '/v1/certificates/base-domain');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { hostname: string }).hostname).toBe('*.apps.example.com');

    res = await agent.req('DELETE', '/v1/certificates/base-domain');
    expect(res.status).toBe(204);
    expect(agent.snapshot().certificates).toEqual([]);
    res = await agent.req('GET', '/v1/certificates/base-domain');
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toBe('No wildcard certificate for *.apps.example.com');
    res = await agent.req('DELETE', '/v1/certificates/base-domain');
    expect(res.status).toBe(404);
  });

  test('must name the wildcard itself: one name under the base domain is not enough', async () => {
    agent = certificateAgent(null, env);
    const single = await makeCertificate(['web.apps.example.com']);
    const res = await put(agent, single);
    expect(res.status).toBe(422);
    expect((await errorOf(res)).message).toBe('The certificate does not cover *.apps.example.com');
  });

  test('needs an admin token', async () => {
    agent = certificateAgent(null, env);
    const deploy = agent.token({ name: 'ci', scope: 'deploy' });
    const res = await agent.req('PUT', '/v1/certificates/base-domain', {
      token: deploy,
      body: { certificate: wildcard.certificate, private_key: wildcard.privateKey },
    });
    expect(res.status).toBe(403);
  });
});

describe('an expired upload', () => {
  test('an uploaded certificate past its expiry fails its domain and is no longer served, so the edge stops redirecting to it', async () => {
    agent = certificateAgent(null);
    agent.addDomain('web', 'shop.example.com', 'pending_dns');
    expect((await upload(agent, shop)).status).toBe(200);
    const stored = agent.certificates.find('shop.example.com')!;

    await agent.deps.certificates.pass();
    expect(agent.domains.byHostname('shop.example.com')!.status).toBe('active');
    expect(agent.snapshot().certificates.map((c) => c.hostname)).toEqual(['shop.example.com']);

    agent.clock.advance(Date.parse(stored.not_after) - agent.clock.now().getTime() + 1000);
    await agent.deps.certificates.pass();
    const domain = agent.domains.byHostname('shop.example.com')!;
    expect(domain).toMatchObject({
      status: 'failed',
      reason: `The uploaded certificate expired on ${stored.not_after}; upload a new one or delete it to get one from the CA`,
    });
    expect(agent.snapshot().certificates).toEqual([]);
    expect(agent.certificates.find('shop.example.com')!.serial).toBe(stored.serial);
    expect(agent.deps.certificates.published()).toEqual([]);
    const [row] = agent.deps.activity.list({ limit: 10, only: null, action: 'certificate.expired' }).data;
    expect(row).toMatchObject({ target: 'shop.example.com', project: 'web', token: { name: 'system' } });

    const version = agent.snapshot().version;
    await agent.deps.certificates.pass();
    expect(agent.snapshot().version).toBe(version);
    expect(agent.deps.activity.list({ limit: 10, only: null, action: 'certificate.expired' }).data).toHaveLength(1);
  });
});

describe("a domain whose name became one of the agent's own", () => {
  test('its certificate may not be uploaded, removed or renewed', async () => {
    agent = certificateAgent(null, { SLIPWAY_API_DOMAIN: 'shop.example.com' });
    // Added before the operator made it the API domain.
    agent.addDomain('web', 'shop.example.com', 'active');
    const message = `Cannot change the certificate of shop.example.com: the name is now one of the agent's own (it is the agent's API domain (SLIPWAY_API_DOMAIN))`;
    for (const res of [
      await upload(agent, shop),
      await agent.req('DELETE', PATH),
      await agent.req('POST', `${PATH}/renew`),
    ]) {
      expect(res.status).toBe(409);
      expect(await errorOf(res)).toMatchObject({ code: 'conflict', message });
    }
    expect(agent.certificates.find('shop.example.com')).toBeUndefined();
  });
});
