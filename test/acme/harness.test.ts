import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { X509Certificate } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { Agent } from 'node:https';
import * as acme from 'acme-client';
import { type AcmeServers, startAcmeServers } from '../helpers/acme.ts';

let servers: AcmeServers;
let ca: string;
const originalHttpsAgent = acme.axios.defaults.httpsAgent;

beforeAll(async () => {
  servers = await startAcmeServers();
  ca = await Bun.file(servers.caFile).text();
  // acme-client talks through its own axios instance, which trusts only what its agent is given.
  acme.axios.defaults.httpsAgent = new Agent({ ca });
});

afterAll(async () => {
  acme.axios.defaults.httpsAgent = originalHttpsAgent;
  await servers?.stop();
});

// One try with a short timeout: a server that is up answers at once; asking one that is gone must not take 10 s.
function resolverFor(server: string, timeout = 1000): Resolver {
  const resolver = new Resolver({ timeout, tries: 1 });
  resolver.setServers([server]);
  return resolver;
}

/** Orders a certificate for `host` over HTTP-01, answering Pebble's request from 127.0.0.1:httpPort. */
async function orderCertificate(host: string): Promise<string> {
  const keyAuthorizations = new Map<string, string>();
  const responder = Bun.serve({
    hostname: '127.0.0.1',
    port: servers.httpPort,
    fetch(request) {
      const token = new URL(request.url).pathname.replace('/.well-known/acme-challenge/', '');
      const answer = keyAuthorizations.get(token);
      return answer ? new Response(answer) : new Response('unknown token', { status: 404 });
    },
  });
  try {
    const client = new acme.Client({
      directoryUrl: servers.directoryUrl,
      accountKey: await acme.crypto.createPrivateEcdsaKey(),
    });
    const [, csr] = await acme.crypto.createCsr({ commonName: host }, await acme.crypto.createPrivateEcdsaKey());
    return await client.auto({
      csr,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // The client's own pre-check resolves through the host's resolver, which knows nothing of these names.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        keyAuthorizations.set(challenge.token, keyAuthorization);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        keyAuthorizations.delete(challenge.token);
      },
    });
  } finally {
    await responder.stop(true);
  }
}

function certificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map(
    (block) => new X509Certificate(block),
  );
}

describe('startAcmeServers', () => {
  test('serves an ACME directory over TLS that caFile trusts', async () => {
    const response = await fetch(servers.directoryUrl, { tls: { ca } });
    expect(response.status).toBe(200);
    const directory = (await response.json()) as Record<string, string>;
    expect(directory.newOrder).toStartWith(new URL(servers.directoryUrl).origin);
  });

  test('each DNS view answers with the addresses set on it', async () => {
    await servers.agentDns.addA('views.test', ['10.0.0.1', '10.0.0.2']);
    await servers.caDns.addA('views.test', ['10.0.0.3']);
    expect(servers.agentDnsServer).toBe(servers.agentDns.server);
    expect(await resolverFor(servers.agentDnsServer).resolve4('views.test')).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(await resolverFor(servers.caDns.server).resolve4('views.test')).toEqual(['10.0.0.3']);

    await servers.pointBoth('views.test', ['10.0.0.4']);
    expect(await resolverFor(servers.agentDnsServer).resolve4('views.test')).toEqual(['10.0.0.4']);
    expect(await resolverFor(servers.caDns.server).resolve4('views.test')).toEqual(['10.0.0.4']);

    await servers.agentDns.clearA('views.test');
    expect(await resolverFor(servers.agentDnsServer).resolve4('views.test')).toEqual(['127.0.0.1']);
  });

  test('a CNAME answers with its target and the target’s addresses', async () => {
    await servers.agentDns.addA('target.test', ['10.0.1.1']);
    await servers.agentDns.addCname('Alias.test', 'target.test');
    const resolver = resolverFor(servers.agentDnsServer);
    expect(await resolver.resolveCname('alias.test')).toEqual(['target.test']);
    expect(await resolver.resolve4('alias.test')).toEqual(['10.0.1.1']);
  });

  test('issues a certificate that rootPem() verifies when both views agree', async () => {
    await servers.pointBoth('issued.test', ['127.0.0.1']);
    const chain = certificates(await orderCertificate('issued.test'));
    const [root, intermediate] = certificates(await servers.rootPem());

    expect(chain[0]!.subjectAltName).toBe('DNS:issued.test');
    expect(chain[0]!.verify(intermediate!.publicKey)).toBe(true);
    expect(intermediate!.verify(root!.publicKey)).toBe(true);
  });

  test('the order fails with Pebble’s own error when the CA’s view points elsewhere', async () => {
    await servers.agentDns.addA('split.test', ['127.0.0.1']);
    await servers.caDns.addA('split.test', ['127.0.0.2']);
    expect(await resolverFor(servers.agentDnsServer).resolve4('split.test')).toEqual(['127.0.0.1']);

    const port = servers.httpPort;
    await expect(orderCertificate('split.test')).rejects.toThrow(
      new RegExp(
        `^Get "http://split\\.test:${port}/\\.well-known/acme-challenge/[\\w-]+": ` +
          `dial tcp 127\\.0\\.0\\.2:${port}: connect: connection refused$`,
      ),
    );
  });

  test('stop() ends the servers and removes their files', async () => {
    const other = await startAcmeServers();
    const otherCa = await Bun.file(other.caFile).text();
    await other.stop();

    expect(await Bun.file(other.caFile).exists()).toBe(false);
    await expect(fetch(other.directoryUrl, { tls: { ca: otherCa } })).rejects.toThrow();
    await expect(resolverFor(other.agentDnsServer, 200).resolve4('gone.test')).rejects.toThrow();
  });
});
