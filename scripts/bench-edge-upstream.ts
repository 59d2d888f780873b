/**
 * Processes for scripts/bench-edge.sh (never run by tests). Each prints what it bound on its first
 * stdout line and runs until killed.
 *
 *   bun scripts/bench-edge-upstream.ts upload
 *       an app on 127.0.0.1 that reads each request body to its end and answers its length in
 *       bytes (the upload case's upstream: nginx's `return 200` would answer before the body ends)
 *   bun scripts/bench-edge-upstream.ts edge <project=127.0.0.1:PORT>... [--tls <cert.pem> <key.pem>]
 *       Slipway's edge routing <project>.localhost to each target, on the engine
 *       SLIPWAY_EDGE_ENGINE names (native when unset), with the HTTPS handshake admission
 *       SLIPWAY_EDGE_TLS_ADMISSION names (the agent's default when unset; BENCH_TLS_ADMISSION_WAIT_MS sets its wait
 *       for a native slot); prints "<http port> <https port or ->", the
 *       HTTPS listener serving the certificate for "localhost" when --tls is given
 */
import { readFileSync } from 'node:fs';
import { SETTINGS } from '../src/config.ts';
import { EdgeProxy } from '../src/edge/proxy.ts';

const [role, ...args] = process.argv.slice(2);

function upload(): void {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      let bytes = 0;
      if (req.body) for await (const chunk of req.body) bytes += chunk.byteLength;
      return new Response(String(bytes), { headers: { 'content-type': 'text/plain' } });
    },
  });
  console.log(server.port);
}

function edge(): void {
  const tlsAt = args.indexOf('--tls');
  const routeArgs = tlsAt === -1 ? args : args.slice(0, tlsAt);
  const routes = routeArgs.map((arg) => {
    const [project, target] = arg.split('=');
    return { project: project!, hostnames: [], targets: [target!] };
  });
  const engine = process.env.SLIPWAY_EDGE_ENGINE === 'node' ? 'node' : 'native';
  const admission = SETTINGS.find((s) => s.env === 'SLIPWAY_EDGE_TLS_ADMISSION')!;
  const tlsAdmission = admission.parse(process.env.SLIPWAY_EDGE_TLS_ADMISSION || admission.default) as number | null;
  const wait = process.env.BENCH_TLS_ADMISSION_WAIT_MS;
  const tlsAdmissionWaitMs = wait && /^\d+$/.test(wait) ? Number(wait) : undefined;
  const proxy = new EdgeProxy({
    baseDomain: 'localhost',
    drainTimeoutMs: 1000,
    engine,
    tlsAdmission,
    tlsAdmissionWaitMs,
  });
  const [certFile, keyFile] = tlsAt === -1 ? [] : args.slice(tlsAt + 1);
  const notAfter = new Date(Date.now() + 86_400_000).toISOString();
  const certificates =
    certFile && keyFile
      ? [
          {
            hostname: 'localhost',
            certPem: readFileSync(certFile, 'utf8'),
            keyPem: readFileSync(keyFile, 'utf8'),
            notAfter,
          },
        ]
      : [];
  proxy.apply({ routes, certificates });
  const http = proxy.listen('127.0.0.1', 0);
  const https = certificates.length > 0 ? proxy.listenHttps('127.0.0.1', 0) : '-';
  console.log(`${http} ${https}`);
}

if (role === 'upload') upload();
else if (role === 'edge' && args.length > 0) edge();
else {
  console.error('Usage: bench-edge-upstream.ts upload | edge <project=127.0.0.1:PORT>... [--tls <cert> <key>]');
  process.exit(2);
}
