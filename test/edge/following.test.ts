import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { edgeStateFile, routeStoreFile } from '../../src/edge/layout.ts';
import { edgeStateWriter, readEdgeState } from '../../src/edge/edge-state.ts';
import { EdgeProxy } from '../../src/edge/proxy.ts';
import { RouteStoreReader } from '../../src/edge/route-store-reader.ts';
import { routeStore } from '../../src/edge/route-store-writer.ts';
import { EdgeSync } from '../../src/edge/sync.ts';
import { createLogger } from '../../src/log.ts';
import { closeAll, namedUpstream, until, upstream } from './helpers.ts';

/**
 * A started EdgeSync follows the store by change notices, looking on its own only every 5 s: each
 * wait below is far shorter, so passing it shows that the change notice, not the fallback, did it.
 */
const PROMPTLY_MS = 1500;
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await closeAll();
});

/**
 * A started edge on a fresh, empty data directory, as `slipway serve --role edge` runs it, or with
 * `toldOfChanges` as `--role all` does (the API in its process calls sync.tick() after each change).
 */
function followingEdge(toldOfChanges = false) {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-following-'));
  const proxy = new EdgeProxy({ baseDomain: 'localhost', drainTimeoutMs: 30_000 });
  const port = proxy.listen('127.0.0.1', 0);
  const reader = new RouteStoreReader(routeStoreFile(dataDir), 'bun:sqlite');
  const sync = new EdgeSync(
    reader,
    edgeStateWriter(edgeStateFile(dataDir)),
    proxy,
    createLogger('error'),
    toldOfChanges,
  );
  sync.start();
  cleanups.push(
    () => rmSync(dataDir, { recursive: true, force: true }),
    () => proxy.stop(),
    () => reader.close(),
    () => sync.stop(),
  );
  const get = (host: string) =>
    fetch(`http://127.0.0.1:${port}/`, { headers: { host } }).then(async (r) => `${r.status} ${await r.text()}`);
  const state = () => readEdgeState(edgeStateFile(dataDir));
  const applied = (version: number) => () => (state()?.applied?.version ?? -1) >= version;
  return { dataDir, proxy, sync, get, state, applied };
}

/** The API's writer of the store in `dataDir`, closed after the test. */
function writer(dataDir: string) {
  const store = routeStore(routeStoreFile(dataDir));
  cleanups.push(() => store.close());
  return store;
}

describe('an edge following the route store', () => {
  test('finds a store the API creates after the edge started, in a directory that did not exist yet', async () => {
    const e = followingEdge();
    expect(e.state()).toMatchObject({ applied: null });
    const version = writer(e.dataDir).put({ project: 'web', hostnames: [], targets: [namedUpstream('first')] });
    await until(e.applied(version), PROMPTLY_MS);
    expect(await e.get('web.localhost')).toBe('200 first');
  });

  test('applies each change the API commits, and reports its version', async () => {
    const e = followingEdge();
    const store = writer(e.dataDir);
    await until(e.applied(store.put({ project: 'web', hostnames: [], targets: [namedUpstream('one')] })), PROMPTLY_MS);
    const version = store.put({ project: 'web', hostnames: [], targets: [namedUpstream('two')] });
    await until(e.applied(version), PROMPTLY_MS);
    expect(await e.get('web.localhost')).toBe('200 two');
    const path = '/.well-known/acme-challenge/t0k';
    const challenge = store.putChallenge({
      path,
      body: 't0k.a',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    await until(e.applied(challenge), PROMPTLY_MS);
  });

  test('keeps following when the store and its directory are replaced', async () => {
    const e = followingEdge();
    const old = writer(e.dataDir);
    await until(e.applied(old.put({ project: 'web', hostnames: [], targets: [namedUpstream('old')] })), PROMPTLY_MS);
    old.close();
    const storeDir = dirname(routeStoreFile(e.dataDir));
    renameSync(storeDir, `${storeDir}.moved`);
    const fresh = writer(e.dataDir); // a new file in a new directory, under a new store id
    fresh.put({ project: 'web', hostnames: [], targets: [namedUpstream('new')] });
    await until(() => e.state()?.applied?.storeId === fresh.head().storeId, PROMPTLY_MS);
    expect(await e.get('web.localhost')).toBe('200 new');
  });

  test('reports a replaced target while it drains and once it is done, without being asked', async () => {
    const e = followingEdge();
    const store = writer(e.dataDir);
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    const slow = upstream(async () => {
      await held;
      return new Response('slow');
    }).address;
    await until(e.applied(store.put({ project: 'web', hostnames: [], targets: [slow] })), PROMPTLY_MS);
    const pending = e.get('web.localhost');
    await until(() => e.proxy.inflight(slow) === 1);
    const version = store.put({ project: 'web', hostnames: [], targets: [namedUpstream('next')] });
    await until(() => e.state()?.applied?.version === version && e.state()!.draining.length === 1, PROMPTLY_MS);
    expect(e.state()!.draining).toEqual([{ target: slow, inflight: 1 }]);
    release();
    expect(await pending).toBe('200 slow');
    await until(() => e.state()!.draining.length === 0, PROMPTLY_MS);
  });

  test('reports its request counters after requests', async () => {
    const e = followingEdge();
    expect(await e.get('nothing.localhost')).toStartWith('404 ');
    await until(() => (e.state()?.stats.requests ?? []).some((r) => r.statusClass === '4xx'), 2000 + PROMPTLY_MS);
  });
});

describe("the edge's request counters", () => {
  test('are the same snapshot until a request is counted, and a new one after', async () => {
    const e = followingEdge();
    const before = e.proxy.stats();
    expect(e.proxy.stats()).toBe(before);
    await e.get('nothing.localhost');
    const after = e.proxy.stats();
    expect(after).not.toBe(before);
    expect(after.requests).toEqual([{ project: '', statusClass: '4xx', count: 1 }]);
  });

  test('told of each change by the API in its process, it watches nothing and applies what it is told at once', async () => {
    const e = followingEdge(true);
    const store = writer(e.dataDir);
    const first = store.put({ project: 'web', hostnames: [], targets: [namedUpstream('first')] });
    // Nobody told it: no watch sees the commit (its own look comes only after 5 s).
    await Bun.sleep(PROMPTLY_MS);
    expect(e.state()).toMatchObject({ applied: null });
    e.sync.tick();
    expect(e.state()!.applied!.version).toBe(first);
    expect(await e.get('web.localhost')).toBe('200 first');
  });
});
