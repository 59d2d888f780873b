import { afterEach, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeStateFile, routeStoreFile } from '../../src/edge/layout.ts';
import { edgeStateWriter, readEdgeState } from '../../src/edge/edge-state.ts';
import { EdgeProxy } from '../../src/edge/proxy.ts';
import { RouteStoreReader, routeStore } from '../../src/edge/route-store.ts';
import { EdgeSync } from '../../src/edge/sync.ts';
import { createLogger } from '../../src/log.ts';
import { closeAll, namedUpstream, until, upstream } from './helpers.ts';

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
  const get = (host: string) =>
    fetch(`http://127.0.0.1:${port}/`, { headers: { host } }).then(async (r) => `${r.status} ${await r.text()}`);
  return { dataDir, sync, store, get, warnings, state: () => readEdgeState(edgeStateFile(dataDir)) };
}

describe('the edge following the route store', () => {
  test('applies the routes the API published and reports the store and version it applied', async () => {
    const e = syncedEdge();
    const version = e.store.put({ project: 'web', hostnames: [], targets: [namedUpstream('one')] });
    e.sync.tick();
    expect(await e.get('web.localhost')).toBe('200 one');
    expect(e.state()).toMatchObject({ applied: { storeId: e.store.head().storeId, version }, draining: [] });
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
