import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { edgeStateWriter } from '../../src/edge/edge-state.ts';
import { edgeStateFile, routeStoreFile } from '../../src/edge/layout.ts';
import { RouteStoreReader } from '../../src/edge/route-store-reader.ts';
import { routeStore } from '../../src/edge/route-store-writer.ts';
import { EdgeSync } from '../../src/edge/sync.ts';
import { createLogger } from '../../src/log.ts';
import { closeAll, namedUpstream, onCleanup, startEdge } from './helpers.ts';
import { handshake, testCa } from './tls-helpers.ts';

afterEach(closeAll);

const NAME = 'shop.example.test';

/** One HTTPS request on `agent` (false: a connection of its own); resolves with the body and the serial it saw. */
function get(port: number, caPem: string, agent: Agent | false): Promise<{ body: string; serial: string | null }> {
  return new Promise((resolve, reject) => {
    let serial: string | null = null;
    const req = request({ host: '127.0.0.1', port, servername: NAME, ca: caPem, headers: { host: NAME }, agent });
    req.on('socket', (socket: TLSSocket) => {
      const read = () => (serial = socket.getPeerCertificate().serialNumber ?? null);
      if (socket.authorized) read();
      else socket.once('secureConnect', read);
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ body, serial }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('replacing a certificate', () => {
  test('under constant keep-alive and new-connection HTTPS load fails no request; new handshakes see each new serial', async () => {
    const ca = testCa();
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-swap-'));
    onCleanup(() => rmSync(dataDir, { recursive: true, force: true }));
    const store = routeStore(routeStoreFile(dataDir));
    onCleanup(() => store.close());
    store.put({ project: 'web', hostnames: [], targets: [namedUpstream('web')] });
    store.putHost({ hostname: NAME, project: 'web', redirectToHttps: true, hsts: true });
    const first = ca.issue([NAME]);
    store.putCertificate(first);

    const { edge } = startEdge([]);
    const reader = new RouteStoreReader(routeStoreFile(dataDir));
    const sync = new EdgeSync(reader, edgeStateWriter(edgeStateFile(dataDir)), edge, createLogger('error'));
    sync.start();
    onCleanup(() => {
      sync.stop();
      reader.close();
    });
    const httpsPort = edge.listenHttps('127.0.0.1', 0);

    let running = true;
    const failures: string[] = [];
    const served = { keptAlive: 0, fresh: 0 };
    const agents = Array.from({ length: 4 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
    const sockets = agents.map(() => new Set<unknown>());
    const seen = new Set<string>();
    const keepAliveLoad = agents.map(async (agent, i) => {
      while (running) {
        const req = get(httpsPort, ca.caPem, agent).catch((err: Error) => ({
          body: `error: ${err.message}`,
          serial: null,
        }));
        const { body } = await req;
        if (body === 'web') served.keptAlive++;
        else failures.push(body);
        for (const socket of Object.values(agent.freeSockets).flat()) sockets[i]!.add(socket);
      }
    });
    const freshLoad = Array.from({ length: 2 }, async () => {
      while (running) {
        const { body, serial } = await get(httpsPort, ca.caPem, false).catch((err: Error) => ({
          body: `error: ${err.message}`,
          serial: null,
        }));
        if (body === 'web') served.fresh++;
        else failures.push(body);
        if (serial) seen.add(serial);
      }
    });

    await Bun.sleep(300);
    const serials = [first.serial];
    for (let round = 0; round < 5; round++) {
      const next = ca.issue([NAME]);
      store.putCertificate(next);
      serials.push(next.serial);
      const deadline = Date.now() + 2000;
      while ((await handshake(httpsPort, NAME, ca.caPem)).serial !== next.serial) {
        if (Date.now() > deadline) throw new Error(`The edge never served serial ${next.serial}`);
        await Bun.sleep(20);
      }
      await Bun.sleep(200);
    }
    running = false;
    await Promise.all([...keepAliveLoad, ...freshLoad]);
    for (const agent of agents) agent.destroy();

    expect(failures).toEqual([]);
    // Load ran all along (a quiet machine serves hundreds; a loaded one under a hundred).
    expect(served.keptAlive).toBeGreaterThan(20);
    expect(served.fresh).toBeGreaterThan(5);
    // The kept-alive connections lived through every swap: one each, from start to end.
    expect(sockets.map((s) => s.size)).toEqual([1, 1, 1, 1]);
    // New connections saw each certificate in its turn.
    expect([...seen].sort()).toEqual(serials);
  });
});
