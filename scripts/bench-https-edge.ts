/**
 * The TLS edge of scripts/bench-https.sh (never run by tests): Slipway's edge serving HTTPS with
 * one certificate, routing every request for `bench.localhost` to `<target>`. Prints the port it
 * bound on its first stdout line and runs until killed.
 *
 *   bun scripts/bench-https-edge.ts <target 127.0.0.1:PORT> <servername> <cert.pem> <key.pem>
 */
import { readFileSync } from 'node:fs';
import { EdgeProxy } from '../src/edge/proxy.ts';

const [target, servername, certFile, keyFile] = process.argv.slice(2);
if (!target || !servername || !certFile || !keyFile) {
  console.error('Usage: bench-https-edge.ts <127.0.0.1:PORT> <servername> <cert.pem> <key.pem>');
  process.exit(2);
}
const edge = new EdgeProxy({ baseDomain: 'localhost', drainTimeoutMs: 1000 });
edge.apply({
  routes: [{ project: 'bench', hostnames: [], targets: [target] }],
  certificates: [
    {
      hostname: servername,
      certPem: readFileSync(certFile, 'utf8'),
      keyPem: readFileSync(keyFile, 'utf8'),
      notAfter: new Date(Date.now() + 86_400_000).toISOString(),
    },
  ],
});
console.log(edge.listenHttps('127.0.0.1', 0));
