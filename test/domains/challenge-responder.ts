/**
 * Answers the edge's challenge paths from the route store, for the HTTP self-check's tests, and
 * reports the store version it read in the edge's state file as the edge does. Unlike the real
 * edge (tested with it in verify.test.ts too) it records each request's Host header and can listen
 * on any loopback address, so one test can put an edge and a stranger on the same port.
 */
import { edgeStateWriter } from '../../src/edge/edge-state.ts';
import { edgeStateFile, routeStoreFile } from '../../src/edge/layout.ts';
import { RouteStoreReader } from '../../src/edge/route-store-reader.ts';

/** A running responder. */
export interface ChallengeResponder {
  port: number;
  /** The Host header of every request, in order. */
  hosts: string[];
  /** Starts serving the store of `dataDir`. */
  serve(dataDir: string): void;
  stop(): void;
}

/** Listens on `address` (a free port unless given). */
export function startChallengeResponder(port = 0, address = '127.0.0.1'): ChallengeResponder {
  let reader: RouteStoreReader | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  const hosts: string[] = [];
  const server = Bun.serve({
    hostname: address,
    port,
    fetch(req) {
      hosts.push(req.headers.get('host') ?? '');
      const path = new URL(req.url).pathname;
      const challenge = reader?.snapshot()?.challenges.find((c) => c.path === path);
      return challenge ? new Response(challenge.body) : new Response('not found', { status: 404 });
    },
  });
  return {
    port: server.port!,
    hosts,
    serve(dataDir) {
      reader = new RouteStoreReader(routeStoreFile(dataDir));
      const write = edgeStateWriter(edgeStateFile(dataDir));
      timer = setInterval(() => {
        const applied = reader?.head() ?? null;
        write({ applied, draining: [], stats: {} as never, at: new Date().toISOString() });
      }, 20);
    },
    stop() {
      if (timer) clearInterval(timer);
      reader?.close();
      server.stop(true);
    },
  };
}
