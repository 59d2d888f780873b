import { describe, expect, test } from 'bun:test';
import { TEST_ACTOR } from '../helpers/app.ts';
import { acmeSuite, type CertificateAgent } from './helpers.ts';

const acme = acmeSuite();
let agent: CertificateAgent | null = null;

describe('a domain from the API to its certificate', () => {
  test('added, verified through DNS, handed to the issuer by the checker, active with its certificate; removed with it', async () => {
    agent = acme.agent({
      SLIPWAY_DNS_SERVERS: acme.servers.agentDnsServer,
      SLIPWAY_PUBLIC_IPS: '127.0.0.1',
      SLIPWAY_HTTPS_LISTEN: '127.0.0.1:0',
    });
    agent.deps.projects.create(TEST_ACTOR, { name: 'web' });
    const added = await agent.req('POST', '/v1/projects/web/domains', { body: { hostname: 'shop.example.test' } });
    expect(added.status).toBe(201);
    expect(await added.json()).toMatchObject({ status: 'verified', certificate: null });

    await agent.deps.domainChecker.pass();
    const res = await agent.req('GET', '/v1/projects/web/domains/shop.example.test');
    const stored = agent.certificates.find('shop.example.test')!;
    expect(await res.json()).toMatchObject({
      status: 'active',
      reason: null,
      next_attempt_at: null,
      certificate: {
        issuer: stored.issuer,
        serial: stored.serial,
        not_before: stored.not_before,
        not_after: stored.not_after,
      },
    });
    expect(agent.snapshot().certificates.map((c) => c.hostname)).toEqual(['shop.example.test']);

    expect((await agent.req('DELETE', '/v1/projects/web/domains/shop.example.test')).status).toBe(204);
    expect(agent.certificates.find('shop.example.test')).toBeUndefined();
    expect(agent.snapshot().certificates).toEqual([]);
  });
});
