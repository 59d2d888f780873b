import { afterEach, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeStateFile, routeStoreFile } from '../../src/edge/layout.ts';
import { edgeStateWriter, readEdgeState } from '../../src/edge/edge-state.ts';
import { EdgeProxy } from '../../src/edge/proxy.ts';
import { RouteStoreReader } from '../../src/edge/route-store-reader.ts';
import { routeStore } from '../../src/edge/route-store-writer.ts';
import { EdgeSync } from '../../src/edge/sync.ts';
import { createLogger } from '../../src/log.ts';
import { closeAll, namedUpstream, until, upstream } from './helpers.ts';
import { httpsRequest, testCa } from './tls-helpers.ts';

const INTERRUPTED_WRITER = `${import.meta.dir}/fixtures/interrupted-writer.ts`;
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await closeAll();
});

/** An edge fed by EdgeSync from the stores in a fresh data directory, as `slipway serve --role edge` runs it. */
function syncedEdge() {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-sync-'));
  const warnings: string[] = [];
  const log = createLogger('warn', (l) => void warnings.push(JSON.parse(l).msg));
  const proxy = new EdgeProxy({ baseDomain: 'localhost', drainTimeoutMs: 30_000 });
  const port = proxy.listen('127.0.0.1', 0);
  const reader = new RouteStoreReader(routeStoreFile(dataDir));
  const sync = new EdgeSync(reader, edgeStateWriter(edgeStateFile(dataDir)), proxy, log);
  const store = routeStore(routeStoreFile(dataDir));
  cleanups.push(
    () => rmSync(dataDir, { recursive: true, force: true }),
    () => proxy.stop(),
    () => reader.close(),
    () => store.close(),
  );
  const get = (host: string, path = '/') =>
    fetch(`http://127.0.0.1:${port}${path}`, { headers: { host } }).then(async (r) => `${r.status} ${await r.text()}`);
  return { dataDir, proxy, sync, store, get, warnings, state: () => readEdgeState(edgeStateFile(dataDir)) };
}

describe('the edge following the route store', () => {
  test('applies the routes the API published and reports the store and version it applied', async () => {
    const e = syncedEdge();
    const version = e.store.put({ project: 'web', hostnames: [], targets: [namedUpstream('one')] });
    e.sync.tick();
    expect(await e.get('web.localhost')).toBe('200 one');
    expect(e.state()).toMatchObject({ applied: { storeId: e.store.head().storeId, version }, draining: [] });
  });

  test('applies the host names, certificates and challenges the API published, all at once', async () => {
    const e = syncedEdge();
    const ca = testCa();
    const httpsPort = e.proxy.listenHttps('127.0.0.1', 0);
    e.store.put({ project: 'web', hostnames: [], targets: [namedUpstream('web')] });
    e.store.putHost({ hostname: 'shop.example.test', project: 'web', redirectToHttps: false, hsts: true });
    e.store.putCertificate(ca.issue(['shop.example.test']));
    const path = '/.well-known/acme-challenge/t0k';
    e.store.putChallenge({ path, body: 't0k.auth', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    e.sync.tick();
    expect(await e.get('shop.example.test')).toBe('200 web');
    expect(await e.get('anything.example.test', path)).toBe('200 t0k.auth');
    const secure = await httpsRequest(httpsPort, 'shop.example.test', ca.caPem);
    expect([secure.body, secure.headers['strict-transport-security']]).toEqual(['web', 'max-age=31536000']);
    e.store.removeChallenge(path);
    e.store.removeCertificate('shop.example.test');
    e.sync.tick();
    expect(await e.get('anything.example.test', path)).toStartWith('404 ');
    await expect(httpsRequest(httpsPort, 'shop.example.test', ca.caPem)).rejects.toThrow();
  });

  test('serves nothing and reports nothing applied until the store exists', async () => {
    const e = syncedEdge();
    e.sync.tick();
    expect(existsSync(routeStoreFile(e.dataDir))).toBe(false);
    expect(await e.get('web.localhost')).toStartWith('404 ');
    expect(e.state()).toMatchObject({ applied: null, draining: [] });
    e.store.put({ project: 'web', hostnames: [], targets: [namedUpstream('late')] });
    e.sync.tick();
    expect(await e.get('web.localhost')).toBe('200 late');
    expect(e.warnings).toEqual([]);
  });

  test('reports a replaced target as draining while a request to it is in flight', async () => {
    const e = syncedEdge();
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    const slow = upstream(async () => {
      await held;
      return new Response('slow');
    }).address;
    e.store.put({ project: 'web', hostnames: [], targets: [slow] });
    e.sync.tick();
    const pending = e.get('web.localhost');
    await Bun.sleep(100);
    const version = e.store.put({ project: 'web', hostnames: [], targets: [namedUpstream('next')] });
    e.sync.tick();
    expect(e.state()).toMatchObject({ applied: { version }, draining: [{ target: slow, inflight: 1 }] });
    release();
    expect(await pending).toBe('200 slow');
    await until(() => {
      e.sync.tick();
      return e.state()!.draining.length === 0;
    });
  });

  test('keeps serving its last routes while a commit cut short by kill -9 blocks reading, until the API opens the store again', async () => {
    const e = syncedEdge();
    e.store.put({ project: 'web', hostnames: [], targets: [namedUpstream('before')] });
    e.sync.tick();
    e.store.close();
    const writer = Bun.spawn([process.execPath, INTERRUPTED_WRITER, routeStoreFile(e.dataDir)], { stdout: 'pipe' });
    const reader = writer.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('spilled\n');
    writer.kill('SIGKILL');
    await writer.exited;
    expect(existsSync(`${routeStoreFile(e.dataDir)}-journal`)).toBe(true);
    for (let i = 0; i < 3; i++) e.sync.tick();
    expect(await e.get('web.localhost')).toBe('200 before');
    expect(e.warnings).toEqual(['cannot read the route store; serving the routes applied last']); // once, not per poll
    const restarted = routeStore(routeStoreFile(e.dataDir)); // the API starting again rolls the journal back
    cleanups.push(() => restarted.close());
    const version = restarted.put({ project: 'web', hostnames: [], targets: [namedUpstream('after')] });
    e.sync.tick();
    expect(await e.get('web.localhost')).toBe('200 after');
    expect(e.state()!.applied!.version).toBe(version);
  });
});
