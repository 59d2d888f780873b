/**
 * A real ACME CA for tests: Debian's `pebble`, validating through one `pebble-challtestsrv` DNS
 * server while the agent under test resolves through another, so a test can make the two views of
 * a name disagree. scripts/ensure-pebble.sh installs the binaries; every process and file belongs
 * to one call of startAcmeServers and goes away with its stop().
 */
import { Resolver } from 'node:dns/promises';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';

const START_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 3;
const STOP_GRACE_MS = 2_000;
const LOG_TAIL_LINES = 20;

/**
 * One pebble-challtestsrv's mock DNS data, changed through its management API. It matches names
 * case-sensitively, so hosts are lowercased here and queries must be lowercase too.
 */
export interface DnsControl {
  /** Its DNS server, `127.0.0.1:port`, for SLIPWAY_DNS_SERVERS or `Resolver#setServers`. */
  server: string;
  /** Adds A records for `host`, after any it already has; a name without any resolves to 127.0.0.1. */
  addA(host: string, addresses: string[]): Promise<void>;
  /** Removes every A record set for `host`, so it resolves to 127.0.0.1 again. */
  clearA(host: string): Promise<void>;
  /** Makes `host` an alias of `target`: queries for `host` answer with the CNAME and `target`'s records. */
  addCname(host: string, target: string): Promise<void>;
  /** Removes the alias set for `host`. */
  clearCname(host: string): Promise<void>;
}

/** A running Pebble and its two DNS views; see startAcmeServers. */
export interface AcmeServers {
  /** The ACME directory, `https://localhost:<port>/dir`, served with a certificate caFile trusts. */
  directoryUrl: string;
  /** PEM of the throwaway CA behind the TLS certificate of Pebble's own endpoints (SLIPWAY_ACME_CA_FILE). */
  caFile: string;
  /** The port Pebble's HTTP-01 validation connects to, on the address the CA's DNS view gives. */
  httpPort: number;
  /** The agent's DNS view as `127.0.0.1:port` (the same as agentDns.server). */
  agentDnsServer: string;
  /** The DNS view the agent under test resolves through. */
  agentDns: DnsControl;
  /** The DNS view Pebble validates through; it connects only to the first address (AAAA before A). */
  caDns: DnsControl;
  /** Sets `host`'s A records to exactly `ipv4s` in both views. */
  pointBoth(host: string, ipv4s: string[]): Promise<void>;
  /** PEM of Pebble's issuing root followed by its intermediate: what trusts the certificates it issues. */
  rootPem(): Promise<string>;
  /** Ends every process this call started and removes its temporary directory. */
  stop(): Promise<void>;
}

const PORT_NAMES = [
  'agentDns',
  'agentManagement',
  'caDns',
  'caManagement',
  'acme',
  'acmeManagement',
  'http',
  'tls',
] as const;
type Ports = Record<(typeof PORT_NAMES)[number], number>;

interface Child {
  name: string;
  proc: Subprocess;
  log: string;
}

/**
 * Starts two pebble-challtestsrv DNS servers and a Pebble that validates through the second, on
 * free loopback ports, and resolves once all of them answer. Ports are found by binding port 0 and
 * letting go, so another process can take one meanwhile: a start that loses that race is retried
 * on new ports. The processes are killed when this process exits, if stop() has not ended them.
 */
export async function startAcmeServers(): Promise<AcmeServers> {
  const missing = ['pebble', 'pebble-challtestsrv', 'openssl'].filter((binary) => !Bun.which(binary));
  if (missing.length > 0) {
    throw new Error(
      `Cannot start the ACME servers: ${missing.join(', ')} missing (scripts/ensure-pebble.sh installs them)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'slipway-acme-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    const tls = await writeTlsFiles(dir);
    for (let attempt = 1; ; attempt++) {
      const ports = freePorts();
      const children = launch(dir, tls, ports);
      const killOnExit = () => {
        for (const { proc } of children) proc.kill('SIGKILL');
        removeDir();
      };
      process.on('exit', killOnExit);
      const endAll = async () => {
        process.off('exit', killOnExit);
        await Promise.all(children.map((child) => end(child.proc)));
      };
      try {
        const handle = await whenReady(tls.caFile, ports, children);
        return { ...handle, stop: () => endAll().then(removeDir) };
      } catch (error) {
        await endAll();
        const logs = children.map((child) => `--- ${child.name}'s log ends:\n${tail(child.log)}`).join('\n');
        if (attempt < START_ATTEMPTS && /address already in use/.test(logs)) continue;
        throw new Error(`${(error as Error).message}\n${logs}`);
      }
    }
  } catch (error) {
    removeDir();
    throw new Error(`Cannot start the ACME servers: ${(error as Error).message}`);
  }
}

// Waits for every process to answer, then builds the handle the tests use.
async function whenReady(caFile: string, ports: Ports, children: Child[]): Promise<Omit<AcmeServers, 'stop'>> {
  const ca = readFileSync(caFile, 'utf8');
  const agentDns = dnsControl(ports.agentDns, ports.agentManagement);
  const caDns = dnsControl(ports.caDns, ports.caManagement);
  const directoryUrl = `https://localhost:${ports.acme}/dir`;
  const management = `https://localhost:${ports.acmeManagement}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  const ready = [
    () => fetch(directoryUrl, { tls: { ca } }).then((r) => r.ok),
    () => fetch(`${management}/roots/0`, { tls: { ca } }).then((r) => r.ok),
    () => answers(agentDns),
    () => answers(caDns),
  ];
  for (const check of ready) {
    while (!(await check().catch(() => false))) {
      const exited = children.find((c) => c.proc.exitCode !== null || c.proc.signalCode !== null);
      if (exited) throw new Error(`${exited.name} exited (${exited.proc.exitCode ?? exited.proc.signalCode})`);
      if (Date.now() > deadline) throw new Error(`they did not all answer within ${START_TIMEOUT_MS} ms`);
      await Bun.sleep(20);
    }
  }
  const pem = (path: string) => fetch(`${management}${path}`, { tls: { ca } }).then((r) => expectOk(r, path));
  return {
    directoryUrl,
    caFile,
    httpPort: ports.http,
    agentDnsServer: agentDns.server,
    agentDns,
    caDns,
    async pointBoth(host, ipv4s) {
      for (const view of [agentDns, caDns]) {
        await view.clearA(host);
        await view.addA(host, ipv4s);
      }
    },
    async rootPem() {
      const [root, intermediate] = await Promise.all([pem('/roots/0'), pem('/intermediates/0')]);
      return `${root.trim()}\n${intermediate.trim()}\n`;
    },
  };
}

// A DNS view is up once its management API takes a change and its DNS server answers a query.
async function answers(view: DnsControl): Promise<boolean> {
  await view.clearA('ready.test');
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([view.server]);
  return (await resolver.resolve4('ready.test')).length > 0;
}

function dnsControl(dnsPort: number, managementPort: number): DnsControl {
  // challtestsrv adds the trailing dot to hosts itself, and answers with 200 and an empty body.
  const post = async (path: string, { host, ...body }: { host: string } & Record<string, unknown>) => {
    const response = await fetch(`http://127.0.0.1:${managementPort}${path}`, {
      method: 'POST',
      body: JSON.stringify({ host: host.toLowerCase(), ...body }),
    });
    await expectOk(response, path);
  };
  return {
    server: `127.0.0.1:${dnsPort}`,
    addA: (host, addresses) => post('/add-a', { host, addresses }),
    clearA: (host) => post('/clear-a', { host }),
    addCname: (host, target) => post('/set-cname', { host, target: target.toLowerCase() }),
    clearCname: (host) => post('/clear-cname', { host }),
  };
}

async function expectOk(response: Response, path: string): Promise<string> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${text}`);
  return text;
}

// Spawns the three processes, each logging stdout and stderr to a file of its own in `dir`. They
// are unref'd: a test that forgets stop() must not keep the runner alive (the exit hook kills them).
function launch(dir: string, tls: { certFile: string; keyFile: string }, ports: Ports): Child[] {
  const children: Child[] = [];
  const spawn = (name: string, argv: string[], env: Record<string, string> = {}) => {
    const log = join(dir, `${name}.log`);
    const fd = openSync(log, 'w');
    try {
      const proc = Bun.spawn(argv, {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
        stdin: 'ignore',
        stdout: fd,
        stderr: fd,
      });
      proc.unref();
      children.push({ name, proc, log });
    } finally {
      closeSync(fd);
    }
  };
  const challtestsrv = (dns: number, management: number) => [
    'pebble-challtestsrv',
    ...['-dns01', `127.0.0.1:${dns}`, '-management', `127.0.0.1:${management}`],
    ...['-http01', '', '-https01', '', '-tlsalpn01', ''],
    ...['-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''],
  ];
  spawn('agent-dns', challtestsrv(ports.agentDns, ports.agentManagement));
  spawn('ca-dns', challtestsrv(ports.caDns, ports.caManagement));
  const config = join(dir, 'pebble.json');
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${ports.acme}`,
        managementListenAddress: `127.0.0.1:${ports.acmeManagement}`,
        certificate: tls.certFile,
        privateKey: tls.keyFile,
        httpPort: ports.http,
        tlsPort: ports.tls,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  // No random sleep before validating, no nonce refused for show, and a fresh authorization per
  // order as far as Pebble allows: it still reuses an account's valid authorization for 1 order in
  // 100 at 0 % (it compares rand.Intn(100) > percent), so a test that needs a name validated again
  // deactivates the earlier authorization (CertificateAgent.forgetValidations).
  spawn('pebble', ['pebble', '-config', config, '-dnsserver', `127.0.0.1:${ports.caDns}`, '-strict=false'], {
    PEBBLE_VA_NOSLEEP: '1',
    PEBBLE_WFE_NONCEREJECT: '0',
    PEBBLE_AUTHZREUSE: '0',
  });
  return children;
}

// SIGTERM, then SIGKILL for a process that outlives the grace period.
async function end(proc: Subprocess): Promise<void> {
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
  await proc.exited;
  clearTimeout(timer);
}

// Distinct ports, each free when it was chosen (all are held until the last is found).
function freePorts(): Ports {
  const listeners = PORT_NAMES.map(() => Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } }));
  const ports = Object.fromEntries(PORT_NAMES.map((name, i) => [name, listeners[i]!.port]));
  for (const listener of listeners) listener.stop(true);
  return ports as Ports;
}

// Our own OpenSSL config, so that the host's openssl.cnf cannot add extensions of its own.
const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
`;

// A throwaway CA, and the certificate it signs for `localhost` and 127.0.0.1 that Pebble serves with.
async function writeTlsFiles(dir: string): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  const config = join(dir, 'openssl.cnf');
  writeFileSync(config, OPENSSL_CONFIG);
  const ca = { cert: join(dir, 'ca.pem'), key: join(dir, 'ca-key.pem') };
  const leaf = { cert: join(dir, 'tls.pem'), key: join(dir, 'tls-key.pem') };
  await newCertificate(config, '/CN=Slipway test ACME TLS CA', 'ca', ca);
  await newCertificate(config, '/CN=localhost', 'leaf', leaf, ca);
  return { caFile: ca.cert, certFile: leaf.cert, keyFile: leaf.key };
}

// A week's certificate for a new P-256 key, signed by `issuer` or else by itself.
async function newCertificate(
  config: string,
  subject: string,
  extensions: string,
  to: { cert: string; key: string },
  issuer?: { cert: string; key: string },
): Promise<void> {
  const proc = Bun.spawn(
    [
      ...['openssl', 'req', '-config', config, '-x509', '-subj', subject, '-extensions', extensions, '-days', '7'],
      ...['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-keyout', to.key, '-out', to.cert],
      ...(issuer ? ['-CA', issuer.cert, '-CAkey', issuer.key] : []),
    ],
    { stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' },
  );
  const [status, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (status !== 0) throw new Error(`openssl could not make the certificate for ${subject}: ${stderr.trim()}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  } catch {
    return '(no log)';
  }
}
