import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { startEdge } from '../../src/edge/runtime.ts';
import { createLogger } from '../../src/log.ts';
import { type CertificateAgent, certificateAgent } from '../certificates/helpers.ts';
import { type AcmeServers, startAcmeServers } from '../helpers/acme.ts';
import { TEST_ACTOR } from '../helpers/app.ts';
import { closeAll, namedUpstream, onCleanup, until } from './helpers.ts';
import { handshake, httpsRequest } from './tls-helpers.ts';

let servers: AcmeServers;
let agent: CertificateAgent | null = null;

beforeAll(async () => {
  servers = await startAcmeServers();
});
afterEach(async () => {
  await closeAll();
  await agent?.stop();
  agent = null;
});
afterAll(async () => {
  await servers?.stop();
});

describe('the edge with a real ACME CA', () => {
  test('answers the HTTP-01 challenge Pebble validates, then serves the issued certificate and redirects HTTP to it', async () => {
    agent = certificateAgent(
      servers,
      {
        SLIPWAY_DNS_SERVERS: servers.agentDnsServer,
        SLIPWAY_PUBLIC_IPS: '127.0.0.1',
        SLIPWAY_HTTPS_LISTEN: '127.0.0.1:0',
      },
      { edge: false },
    );
    // The real edge, on the port Pebble validates on; no stand-in answers the challenges.
    const edge = startEdge(agent.deps.config, createLogger('error'));
    onCleanup(() => edge.stop());
    agent.deps.projects.create(TEST_ACTOR, { name: 'web' });
    agent.deps.edge.setRoute({ project: 'web', hostnames: [], targets: [namedUpstream('web')], deployment_id: null });
    const added = await agent.req('POST', '/v1/projects/web/domains', { body: { hostname: 'shop.example.test' } });
    expect(added.status).toBe(201);

    await agent.deps.domainChecker.pass();
    const domain = (await (await agent.req('GET', '/v1/projects/web/domains/shop.example.test')).json()) as {
      status: string;
      certificate: { serial: string };
    };
    expect(domain).toMatchObject({ status: 'active' });

    // Pebble fetched the key authorization from the edge itself (counted under no project).
    expect(edge.proxy.stats().requests).toContainEqual({ project: '', statusClass: '2xx', count: expect.any(Number) });
    const root = await servers.rootPem();
    await until(() => agent!.snapshot().certificates.length === 1);
    let served: Awaited<ReturnType<typeof handshake>> | null = null;
    const deadline = Date.now() + 3000;
    while (!served && Date.now() < deadline) {
      served = await handshake(edge.httpsPort!, 'shop.example.test', root).catch(() => null);
      if (!served) await Bun.sleep(50);
    }
    expect(served?.serial.toLowerCase()).toBe(domain.certificate.serial.toLowerCase().replaceAll(':', ''));
    const res = await httpsRequest(edge.httpsPort!, 'shop.example.test', root);
    expect([res.status, res.body]).toEqual([200, 'web']);

    const plain = await fetch(`http://127.0.0.1:${edge.port}/cart?x=1`, {
      headers: { host: 'shop.example.test' },
      redirect: 'manual',
    });
    expect(plain.status).toBe(301);
    expect(plain.headers.get('location')).toBe(`https://shop.example.test:${edge.httpsPort}/cart?x=1`);
  });
});
