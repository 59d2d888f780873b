import { afterEach, describe, expect, test } from 'bun:test';
import { type CertificateAgent, certificateAgent, makeCertificate } from './helpers.ts';

let agent: CertificateAgent | null = null;
afterEach(async () => {
  await agent?.stop();
  agent = null;
});

/** A loopback port nothing listens on: bound once, then closed. */
function closedPort(): number {
  const server = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

describe('a CA that cannot be reached', () => {
  test('a refused connection fails the domain naming the directory and the network error', async () => {
    const directory = `https://127.0.0.1:${closedPort()}/dir`;
    agent = certificateAgent(null, { SLIPWAY_ACME_DIRECTORY: directory });
    await agent.deps.certificates.issue(agent.addDomain('web', 'refused.example.test'));
    const row = agent.domains.byHostname('refused.example.test')!;
    expect(row.status).toBe('failed');
    expect(row.reason).toStartWith(`Cannot reach the ACME server at ${directory}: `);
    expect(row.reason).toMatch(/ECONNREFUSED|refused/i);
    expect(row.reason).not.toContain('undefined');
    expect(row.next_attempt_at).not.toBeNull();
  });

  test('a CA whose TLS certificate is not trusted fails the domain naming the directory and the TLS error', async () => {
    const made = await makeCertificate(['localhost', '127.0.0.1']);
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      tls: { cert: made.certificate, key: made.privateKey },
      fetch: () => Response.json({}),
    });
    try {
      const directory = `https://127.0.0.1:${server.port}/dir`;
      agent = certificateAgent(null, { SLIPWAY_ACME_DIRECTORY: directory });
      await agent.deps.certificates.issue(agent.addDomain('web', 'untrusted.example.test'));
      const row = agent.domains.byHostname('untrusted.example.test')!;
      expect(row.status).toBe('failed');
      expect(row.reason).toStartWith(`Cannot reach the ACME server at ${directory}: `);
      expect(row.reason).toMatch(/certificate|self.signed|verify/i);
      expect(row.reason).not.toContain('undefined is not an object');
    } finally {
      server.stop(true);
    }
  });
});
