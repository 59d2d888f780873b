/**
 * Fixtures for the edge's HTTPS tests: a throwaway certificate authority made with the openssl
 * command (Debian's openssl package; ca-certificates depends on it, so it is on every machine that
 * reaches a registry), certificates it signs with serials the test chooses, an edge listening on
 * both HTTP and HTTPS, and clients that connect to 127.0.0.1 with the SNI name they are given.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import type { EdgeContents, EdgeOptions } from '../../src/edge/proxy.ts';
import type { EdgeCertificate } from '../../src/edge/route-store.ts';
import { onCleanup, startEdge, type TestEdge } from './helpers.ts';

/** A certificate signed by a TestCa, as the route store carries it, with its serial as TLS peers report it. */
export interface IssuedCertificate extends EdgeCertificate {
  serial: string;
}

/** A certificate authority in a temporary directory. */
export interface TestCa {
  /** Its root certificate, for clients to trust, and the file holding it. */
  caPem: string;
  caFile: string;
  /** Signs an EC P-256 certificate for `names` (the first one is the route store's `hostname`). */
  issue(names: string[], serial?: number): IssuedCertificate;
}

let nextSerial = 0x1000;

/** Runs openssl with `args` in `cwd`; throws with its output when it fails. */
function openssl(cwd: string, args: string[]): void {
  const run = Bun.spawnSync(['openssl', ...args], { cwd, stdout: 'pipe', stderr: 'pipe' });
  if (run.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${run.stderr.toString()}`);
}

/** A new certificate authority; removed after the test. */
export function testCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-tls-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Slipway Test CA',
  ]);
  return {
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    caFile: join(dir, 'ca.pem'),
    issue(names, serial = nextSerial++) {
      const base = `leaf-${serial}`;
      writeFileSync(join(dir, `${base}.ext`), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`);
      openssl(dir, ['req', ...ec, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${names[0]}`]);
      openssl(dir, [
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        String(serial),
        '-days',
        '1',
        '-extfile',
        `${base}.ext`,
        '-out',
        `${base}.pem`,
      ]);
      return {
        hostname: names[0]!,
        certPem: readFileSync(join(dir, `${base}.pem`), 'utf8'),
        keyPem: readFileSync(join(dir, `${base}.key`), 'utf8'),
        notAfter: new Date(Date.now() + 86_400_000).toISOString(),
        serial: serial.toString(16).toUpperCase(),
      };
    },
  };
}

/** An edge listening on HTTP and HTTPS (random ports), serving `contents`. */
export interface TlsTestEdge extends TestEdge {
  httpsPort: number;
}

/** Starts an edge for base domain "localhost" that listens for HTTPS too, and applies `contents`. */
export function startTlsEdge(contents: EdgeContents, opts: Partial<EdgeOptions> = {}): TlsTestEdge {
  const started = startEdge([], opts);
  started.edge.apply(contents);
  return { ...started, httpsPort: started.edge.listenHttps('127.0.0.1', 0) };
}

/** What an HTTPS request through the edge got. */
export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Options of httpsRequest: the Host header defaults to the SNI name. */
export interface HttpsRequestOptions {
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string>;
  body?: string;
  agent?: Agent;
  /** Another 127/8 address to connect from, to be another client. */
  localAddress?: string;
}

/** An HTTPS request to the edge on 127.0.0.1:port with SNI `servername`, trusting `caPem` only. */
export function httpsRequest(
  port: number,
  servername: string,
  caPem: string,
  opts: HttpsRequestOptions = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        servername,
        ca: caPem,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: { host: opts.host ?? servername, ...opts.headers },
        agent: opts.agent ?? false,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** What a finished TLS handshake showed. */
export interface Handshake {
  serial: string;
  alpn: string | false | null;
  protocol: string | null;
  socket: TLSSocket;
}

/** A TLS handshake with the edge for `servername` (none when null); rejects when it fails. */
export function handshake(port: number, servername: string | null, caPem: string, alpn?: string[]): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: caPem,
      ...(servername === null ? { rejectUnauthorized: false } : { servername }),
      ...(alpn ? { ALPNProtocols: alpn } : {}),
    });
    onCleanup(() => socket.destroy());
    socket.once('secureConnect', () =>
      resolve({
        serial: socket.getPeerCertificate().serialNumber,
        alpn: socket.alpnProtocol ?? null,
        protocol: socket.getProtocol(),
        socket,
      }),
    );
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('Closed during the handshake')));
  });
}
