import { describe, expect, test } from 'bun:test';
import { connect } from 'node:tls';
import { acmeSuite, type CertificateAgent } from './helpers.ts';

const acme = acmeSuite();
let agent: CertificateAgent | null = null;

/** Shakes hands with the edge's HTTPS listener as `servername`; the serial it is shown and whether `ca` trusts it. */
function handshake(port: number, servername: string, ca: string): Promise<{ serial: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false }, () => {
      resolve({ serial: socket.getPeerCertificate().serialNumber.toUpperCase(), authorized: socket.authorized });
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** Retries `handshake` until it shows `serial` (the edge applies the route store within its poll). */
async function served(a: CertificateAgent, servername: string, serial: string, ca: string) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const seen = await handshake(a.edge!.httpsPort!, servername, ca).catch(() => null);
    if (seen?.serial === serial || Date.now() > deadline) return seen;
    await Bun.sleep(50);
  }
}

describe('what the edge serves', () => {
  test('the issued certificate, trusted through the CA root, and its renewal for new handshakes', async () => {
    agent = acme.agent({ SLIPWAY_HTTPS_LISTEN: '127.0.0.1:0' });
    const root = await acme.servers.rootPem();
    await agent.deps.certificates.issue(agent.addDomain('web', 'shop.example.test'));
    const first = agent.certificates.find('shop.example.test')!;
    expect(await served(agent, 'shop.example.test', first.serial, root)).toEqual({
      serial: first.serial,
      authorized: true,
    });

    agent.clock.advance(Date.parse(first.renew_at!) - agent.clock.now().getTime() + 60_000);
    await agent.deps.certificates.pass();
    const renewed = agent.certificates.find('shop.example.test')!;
    expect(renewed.serial).not.toBe(first.serial);
    expect(await served(agent, 'shop.example.test', renewed.serial, root)).toEqual({
      serial: renewed.serial,
      authorized: true,
    });
  });

  test("the API domain's certificate, ordered by the first pass", async () => {
    agent = acme.agent({
      SLIPWAY_HTTPS_LISTEN: '127.0.0.1:0',
      SLIPWAY_API_DOMAIN: 'slipway.example.test',
    });
    await agent.deps.certificates.pass();
    const cert = agent.certificates.find('slipway.example.test')!;
    expect(await served(agent, 'slipway.example.test', cert.serial, await acme.servers.rootPem())).toEqual({
      serial: cert.serial,
      authorized: true,
    });
  });
});
