/**
 * A real DNS server for domain checks: one Debian `pebble-challtestsrv` on free loopback ports,
 * with the DnsControl of test/helpers/acme.ts. It differs from the agent's view there in two ways
 * the domain tests need: it has no default address, so a name without records is NXDOMAIN (there
 * every unknown name resolves to 127.0.0.1), and it starts no CA. Each call owns its process.
 */
import type { Subprocess } from 'bun';
import type { DnsControl } from '../helpers/acme.ts';

/** A running DNS server and its records. */
export interface TestDns extends DnsControl {
  /** Sets the TXT record of `host` (one value; a later call replaces it). */
  setTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the server and resolves once it answers. */
export async function startTestDns(): Promise<TestDns> {
  if (!Bun.which('pebble-challtestsrv')) throw new Error('pebble-challtestsrv is missing (apt-get install pebble)');
  for (let attempt = 1; ; attempt++) {
    const [dnsPort, managementPort] = freePorts(2);
    const proc = Bun.spawn(
      [
        'pebble-challtestsrv',
        ...['-dns01', `127.0.0.1:${dnsPort}`, '-management', `127.0.0.1:${managementPort}`],
        ...['-http01', '', '-https01', '', '-tlsalpn01', '', '-defaultIPv4', '', '-defaultIPv6', ''],
      ],
      { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
    );
    const dns = control(proc, dnsPort!, managementPort!);
    if (await ready(dns, proc)) return dns;
    await dns.stop();
    if (attempt === 3) throw new Error('pebble-challtestsrv did not start');
  }
}

function control(proc: Subprocess, dnsPort: number, managementPort: number): TestDns {
  const post = async (path: string, body: Record<string, unknown>) => {
    const res = await fetch(`http://127.0.0.1:${managementPort}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  };
  return {
    server: `127.0.0.1:${dnsPort}`,
    addA: (host, addresses) => post('/add-a', { host, addresses }),
    clearA: (host) => post('/clear-a', { host }),
    addCname: (host, target) => post('/set-cname', { host, target }),
    clearCname: (host) => post('/clear-cname', { host }),
    setTxt: (host, value) => post('/set-txt', { host: `${host}.`, value }),
    clearTxt: (host) => post('/clear-txt', { host: `${host}.` }),
    async stop() {
      proc.kill('SIGTERM');
      await proc.exited;
    },
  };
}

async function ready(dns: TestDns, proc: Subprocess): Promise<boolean> {
  const { Resolver } = await import('node:dns/promises');
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([dns.server]);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && proc.exitCode === null) {
    const answered = await dns
      .addA('ready.test', ['127.0.0.1'])
      .then(() => resolver.resolve4('ready.test'))
      .then((a) => a.length > 0)
      .catch(() => false);
    if (answered) return true;
    await Bun.sleep(25);
  }
  return false;
}

/** `n` ports that were free a moment ago. */
export function freePorts(n: number): number[] {
  const listeners = Array.from({ length: n }, () =>
    Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } }),
  );
  const ports = listeners.map((l) => l.port);
  for (const l of listeners) l.stop(true);
  return ports;
}
