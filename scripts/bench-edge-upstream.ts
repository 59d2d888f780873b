/**
 * Processes for scripts/bench-edge.sh (never run by tests). Each prints the port it bound on
 * its first stdout line and runs until killed.
 *
 *   bun scripts/bench-edge-upstream.ts upstream          a hello-world app on 127.0.0.1
 *   bun scripts/bench-edge-upstream.ts edge <target>     Slipway's edge routing bench.localhost to <target>
 */
import { EdgeProxy } from '../src/edge/proxy.ts';

const [role, target] = process.argv.slice(2);

if (role === 'upstream') {
  const body = 'Hello, world!\n';
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () => new Response(body, { headers: { 'content-type': 'text/plain' } }),
  });
  console.log(server.port);
} else if (role === 'edge' && target) {
  const engine = process.env.SLIPWAY_EDGE_ENGINE === 'node' ? 'node' : 'native';
  const edge = new EdgeProxy({ baseDomain: 'localhost', drainTimeoutMs: 1000, engine });
  edge.setRoutes([{ project: 'bench', hostnames: [], targets: [target] }]);
  console.log(edge.listen('127.0.0.1', 0));
} else {
  console.error('Usage: bench-edge-upstream.ts upstream | edge <127.0.0.1:PORT>');
  process.exit(2);
}
