import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { routeStoreFile } from '../../src/edge/layout.ts';
import { routeStore } from '../../src/edge/route-store-writer.ts';
import { startEdge } from '../../src/edge/runtime.ts';
import { createLogger } from '../../src/log.ts';
import { closeAll, onCleanup, upstream } from './helpers.ts';
import { httpsRequest, testCa } from './tls-helpers.ts';

afterEach(closeAll);

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('startEdge', () => {
  test('listens for HTTPS when SLIPWAY_HTTPS_LISTEN is set, serves what the store holds, and stops both listeners gracefully', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-edge-runtime-'));
    onCleanup(() => rmSync(dataDir, { recursive: true, force: true }));
    const ca = testCa();
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const app = upstream(async (req) => {
      if (new URL(req.url).pathname === '/slow') await held;
      return new Response('web');
    }).address;
    const store = routeStore(routeStoreFile(dataDir));
    onCleanup(() => store.close());
    store.put({ project: 'web', hostnames: [], targets: [app] });
    store.putHost({ hostname: 'shop.example.test', project: 'web', redirectToHttps: true, hsts: false });
    store.putCertificate(ca.issue(['shop.example.test']));

    const config = loadConfig({
      SLIPWAY_DATA_DIR: dataDir,
      SLIPWAY_HTTP_LISTEN: '127.0.0.1:0',
      SLIPWAY_HTTPS_LISTEN: '127.0.0.1:0',
    });
    const edge = startEdge(config, createLogger('error'));
    expect(edge.httpsPort).toBeNumber();
    const httpsPort = edge.httpsPort!;
    const redirect = await fetch(`http://127.0.0.1:${edge.port}/x`, {
      headers: { host: 'shop.example.test' },
      redirect: 'manual',
    });
    expect(redirect.headers.get('location')).toBe(`https://shop.example.test:${httpsPort}/x`);
    expect((await httpsRequest(httpsPort, 'shop.example.test', ca.caPem)).body).toBe('web');

    const slow = httpsRequest(httpsPort, 'shop.example.test', ca.caPem, { path: '/slow' });
    await Bun.sleep(100);
    const stopped = edge.stop();
    await Bun.sleep(100);
    expect([await accepts(edge.port), await accepts(httpsPort)]).toEqual([false, false]);
    release();
    expect((await slow).body).toBe('web');
    await stopped;
  });

  test('reports no HTTPS port while SLIPWAY_HTTPS_LISTEN is off', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-edge-runtime-'));
    onCleanup(() => rmSync(dataDir, { recursive: true, force: true }));
    const edge = startEdge(
      loadConfig({ SLIPWAY_DATA_DIR: dataDir, SLIPWAY_HTTP_LISTEN: '127.0.0.1:0' }),
      createLogger('error'),
    );
    onCleanup(() => edge.stop());
    expect(edge.httpsPort).toBeNull();
  });
});
