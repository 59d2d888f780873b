import { afterAll, afterEach, beforeAll } from 'bun:test';
/**
 * An agent wired to a real ACME server (Pebble, from test/helpers/acme.ts) with a clock the test
 * moves, an in-process edge answering HTTP-01 challenges on the port Pebble validates on, and
 * certificates made with openssl for the upload tests.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainRow } from '../../src/db/domains.ts';
import { domainRepo } from '../../src/db/domains.ts';
import { certificateRepo } from '../../src/db/certificates.ts';
import { acmeAccount } from '../../src/certificates/acme-account.ts';
import { loadAcme } from '../../src/certificates/acme-http.ts';
import { getMeta } from '../../src/db/meta.ts';
import { loadMasterKey } from '../../src/secrets/master-key.ts';
import { SecretBox } from '../../src/secrets/secret-box.ts';
import { routeStoreFile } from '../../src/edge/layout.ts';
import type { RouteSnapshot } from '../../src/edge/route-store.ts';
import { RouteStoreReader } from '../../src/edge/route-store-reader.ts';
import { startEdge, type RunningEdge } from '../../src/edge/runtime.ts';
import { newId } from '../../src/ids.ts';
import { createLogger } from '../../src/log.ts';
import { type AcmeServers, startAcmeServers } from '../helpers/acme.ts';
import { makeTestApp, TEST_ACTOR, type TestApp } from '../helpers/app.ts';

/** A clock the test moves; the certificate service measures renewals and backoffs by it. */
export class Clock {
  offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);
  /** Moves the clock `ms` forward (or back, when negative). */
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** An agent that orders from `servers`, with its clock and edge. */
export interface CertificateAgent extends TestApp {
  clock: Clock;
  edge: RunningEdge | null;
  certificates: ReturnType<typeof certificateRepo>;
  domains: ReturnType<typeof domainRepo>;
  /** Creates project `project` (if needed) and a domain row in `status` for `hostname`. */
  addDomain(project: string, hostname: string, status?: DomainRow['status']): DomainRow;
  /** The route store as the edge reads it. */
  snapshot(): RouteSnapshot;
  /**
   * Deactivates the agent's valid authorizations for `hostname` at the CA, so that its next order
   * is validated again rather than served from an earlier validation (as a CA may do for weeks).
   */
  forgetValidations(hostname: string): Promise<void>;
  stop(): Promise<void>;
}

/** Fast polling of the CA, so a test waits for Pebble, not for production backoffs. */
const FAST = { polling: { minMs: 25, maxMs: 250, attempts: 40 }, challengeWaitMs: 3000 };

/**
 * Starts an agent ordering from `servers`: its edge answers challenges on servers.httpPort
 * (`edge: false` when the test needs none).
 */
export function certificateAgent(
  servers: AcmeServers | null,
  env: Record<string, string> = {},
  opts: { edge?: boolean; limits?: { windowMs: number; warnAt: number; refuseAt: number } } = {},
): CertificateAgent {
  const clock = new Clock();
  let stopped = false;
  const app = makeTestApp(
    {
      SLIPWAY_ACME_DIRECTORY: servers?.directoryUrl ?? 'off',
      ...(servers
        ? { SLIPWAY_ACME_CA_FILE: servers.caFile, SLIPWAY_HTTP_LISTEN: `127.0.0.1:${servers.httpPort}` }
        : {}),
      ...env,
    },
    { certificates: { ...FAST, now: clock.now, ...(opts.limits ? { limits: opts.limits } : {}) } },
  );
  const reader = new RouteStoreReader(routeStoreFile(app.dir));
  // The real edge answers the CA's HTTP-01 requests, on the port Pebble validates on; told of each
  // change by the API, as in `serve`'s own process.
  const edge =
    servers && opts.edge !== false
      ? startEdge(app.deps.config, createLogger('error'), (listener) => app.deps.edge.onRouteChange(listener))
      : null;
  const domains = domainRepo(app.deps.db);
  return {
    ...app,
    clock,
    edge,
    certificates: certificateRepo(app.deps.db),
    domains,
    addDomain(project, hostname, status = 'verified') {
      const p =
        app.deps.projects.list({ limit: 100, only: null }).data.find((x) => x.name === project) ??
        app.deps.projects.create(TEST_ACTOR, { name: project });
      const now = new Date().toISOString();
      const row: DomainRow = {
        id: newId('dom'),
        project_id: p.id,
        hostname,
        redirect_to_https: 1,
        hsts: 0,
        status,
        reason: null,
        attempts: 0,
        next_attempt_at: null,
        last_check: null,
        ownership_token: null,
        proven_at: null,
        created_at: now,
        updated_at: now,
      };
      domains.insert(row);
      return row;
    },
    snapshot: () => reader.snapshot()!,
    forgetValidations: (hostname) => forgetValidations(app, hostname),
    async stop() {
      if (stopped) return;
      stopped = true;
      await edge?.stop();
      reader.close();
      app.close();
    },
  };
}

// Walks the account's orders (Pebble lists them at the account's `orders` URL) and deactivates
// every valid authorization for `hostname`. The client is given the account's URL: registering the
// key again would send Pebble an account update it refuses as empty.
async function forgetValidations(app: TestApp, hostname: string): Promise<void> {
  const { config, db } = app.deps;
  const directoryUrl = config.acmeDirectory!;
  const box = new SecretBox(
    loadMasterKey({
      envKey: config.masterKey,
      credentialsDirectory: config.credentialsDirectory,
      dataDir: config.dataDir,
    }),
  );
  const accountUrl = acmeAccount({ db, box, directoryUrl, email: null, polling: FAST.polling }).url();
  const sealedKey = getMeta(db, 'acme_account_key');
  if (!accountUrl || !sealedKey) throw new Error('The agent has no ACME account yet');
  const { Client } = await loadAcme();
  const client = new Client({ directoryUrl, accountUrl, accountKey: box.open(sealedKey, 'acme:account-key') });
  // POST-as-GET (a null payload) through acme-client's request signer, which it does not export.
  const { api } = client as unknown as { api: { apiRequest(url: string): Promise<{ data: unknown }> } };
  const { orders } = (await api.apiRequest(accountUrl)).data as { orders?: string };
  if (!orders) throw new Error('The CA lists no orders for the account');
  let deactivated = 0;
  for (const url of ((await api.apiRequest(orders)).data as { orders: string[] }).orders) {
    const order = await client.getOrder({ url } as Parameters<typeof client.getOrder>[0]);
    for (const authz of await client.getAuthorizations(order)) {
      if (authz.status !== 'valid' || authz.identifier.value !== hostname) continue;
      await client.deactivateAuthorization(authz);
      deactivated++;
    }
  }
  if (deactivated === 0) throw new Error(`The CA holds no valid authorization for ${hostname}`);
}

/** Whether `chainPem` (leaf first) chains up to the root in `rootPem` (root, then intermediate). */
export function chainsTo(chainPem: string, rootPem: string): boolean {
  const pems = (text: string) => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const chain = pems(chainPem).map((p) => new X509Certificate(p));
  const anchors = pems(rootPem).map((p) => new X509Certificate(p));
  const all = [...chain, ...anchors];
  let cert = chain[0];
  for (let hops = 0; cert && hops < 5; hops++) {
    if (anchors.some((a) => a.fingerprint256 === cert!.fingerprint256 && a.checkIssued(a))) return true;
    const issuer = all.find((c) => c !== cert && cert!.checkIssued(c) && cert!.verify(c.publicKey));
    if (!issuer) return false;
    cert = issuer;
  }
  return false;
}

/** A certificate and key made with openssl: PEM texts. */
export interface MadeCertificate {
  certificate: string;
  privateKey: string;
}

/** Self-signed certificates for upload tests, valid from now for `days`, naming `names` (DNS SANs). */
export async function makeCertificate(names: string[], days = 90): Promise<MadeCertificate> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cert-'));
  try {
    const config = join(dir, 'openssl.cnf');
    writeFileSync(
      config,
      [
        '[req]',
        'distinguished_name = dn',
        'prompt = no',
        '[dn]',
        'CN = Slipway upload test',
        '[leaf]',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature',
        'extendedKeyUsage = serverAuth',
        `subjectAltName = ${names.map((n) => `DNS:${n}`).join(', ')}`,
        '',
      ].join('\n'),
    );
    const argv = ['openssl', 'req', '-config', config, '-x509', '-extensions', 'leaf'];
    const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-days', String(days)];
    const files = ['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')];
    const proc = Bun.spawn([...argv, ...key, ...files], { stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' });
    const [status, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    if (status !== 0) throw new Error(`openssl failed: ${stderr}`);
    return {
      certificate: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      privateKey: readFileSync(join(dir, 'key.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One Pebble for a test file, and the agents its tests make with it, each stopped after its test. */
export interface AcmeSuite {
  readonly servers: AcmeServers;
  agent(env?: Record<string, string>, opts?: Parameters<typeof certificateAgent>[2]): CertificateAgent;
  /** Stops an agent made otherwise (without a CA) after its test too. */
  track(agent: CertificateAgent): CertificateAgent;
}

/** Starts Pebble before the file's tests and stops it after them; stops each test's agents after it. */
export function acmeSuite(): AcmeSuite {
  let servers: AcmeServers | null = null;
  const started: CertificateAgent[] = [];
  beforeAll(async () => {
    servers = await startAcmeServers();
  });
  afterEach(async () => {
    for (const a of started.splice(0)) await a.stop();
  });
  afterAll(async () => {
    await servers?.stop();
  });
  return {
    get servers() {
      if (!servers) throw new Error('Pebble is not started yet: use the suite inside a test');
      return servers;
    },
    agent(env = {}, opts = {}) {
      return this.track(certificateAgent(this.servers, env, opts));
    },
    track(agent) {
      started.push(agent);
      return agent;
    },
  };
}
