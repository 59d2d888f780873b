import { afterEach, describe, expect, test } from 'bun:test';
import Database from 'better-sqlite3/linux-x64';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeRepo } from '../../src/db/edge.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openDatabase, type Db } from '../../src/db/open.ts';
import { edgeStateWriter } from '../../src/edge/edge-state.ts';
import { edgeStateFile, routeStoreFile } from '../../src/edge/layout.ts';
import { RouteStoreReader } from '../../src/edge/route-store-reader.ts';
import { routeStore, type RouteStore } from '../../src/edge/route-store-writer.ts';
import { edgeRoutes } from '../../src/release/edge-routes.ts';
import { waitApplied, waitDrained } from '../../src/release/drain.ts';

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** The API's side of the edge on a fresh data directory; `store` may stand in for the route store. */
function apiSide(opts: { store?: (real: RouteStore) => RouteStore; db?: (dataDir: string) => Db } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-edge-routes-'));
  const db = opts.db?.(dataDir) ?? openDatabase(join(dataDir, 'slipway.db'));
  const real = routeStore(routeStoreFile(dataDir));
  const edge = edgeRoutes({
    db,
    repo: edgeRepo(db),
    store: opts.store?.(real) ?? real,
    stateFile: edgeStateFile(dataDir),
  });
  const reader = new RouteStoreReader(routeStoreFile(dataDir));
  cleanups.push(
    () => rmSync(dataDir, { recursive: true, force: true }),
    () => db.close(),
    () => edge.close(),
    () => reader.close(),
  );
  const report = edgeStateWriter(edgeStateFile(dataDir));
  return { dataDir, db, edge, reader, real, report };
}

const stats = { requests: [], latency: [] };
const route = (targets: string[]) => ({ project: 'web', deployment_id: 'dep_1', hostnames: [], targets });

describe("the API's side of the edge", () => {
  test('records a route in slipway.db and publishes it to the route store, returning the store version', () => {
    const a = apiSide();
    const version = a.edge.setRoute(route(['127.0.0.1:4001']));
    expect(a.edge.route('web')).toMatchObject({ deployment_id: 'dep_1', targets: '["127.0.0.1:4001"]' });
    expect(a.reader.snapshot()).toMatchObject({
      version,
      routes: [{ project: 'web', hostnames: [], targets: ['127.0.0.1:4001'] }],
    });
    expect(a.edge.removeRoute('web')).toBe(version + 1);
    expect([a.edge.route('web'), a.reader.snapshot()!.routes]).toEqual([undefined, []]);
  });

  test('tells the in-process edge of each committed change at once, so it need not wait for its poll', () => {
    const a = apiSide();
    const seen: number[] = [];
    const unsubscribe = a.edge.onRouteChange(() => seen.push(a.reader.head()!.version));
    const set = a.edge.setRoute(route(['127.0.0.1:4001']));
    const removed = a.edge.removeRoute('web');
    // The edge in the API's process watches nothing: host names, certificates and challenges too.
    const changes = [
      a.edge.putHost({ hostname: 'shop.example.test', project: 'web', redirectToHttps: false, hsts: false }),
      a.edge.putCertificate({ hostname: 'shop.example.test', certPem: 'cert', keyPem: 'key', notAfter: '2027-01-01' }),
      a.edge.putChallenge({ path: '/.well-known/acme-challenge/t0k', body: 't0k.key', expiresAt: '2027-01-01' }),
      a.edge.removeChallenge('/.well-known/acme-challenge/t0k'),
      a.edge.removeCertificate('shop.example.test'),
      a.edge.removeHost('shop.example.test'),
    ];
    expect(seen).toEqual([set, removed, ...changes]);
    unsubscribe();
    a.edge.setRoute(route(['127.0.0.1:4002']));
    expect(seen).toEqual([set, removed, ...changes]);
  });

  test('leaves slipway.db as it was when the route store cannot be written', () => {
    const a = apiSide({
      store: (real) => ({
        ...real,
        put: () => {
          throw new Error('disk full');
        },
      }),
    });
    expect(() => a.edge.setRoute(route(['127.0.0.1:4001']))).toThrow('disk full');
    expect(a.edge.route('web')).toBeUndefined();
  });

  test('publishes the whole recorded table at start, over whatever the store held', () => {
    const a = apiSide();
    edgeRepo(a.db).put({ ...route(['127.0.0.1:4001']), project: 'kept' }); // recorded, never published
    a.real.put({ project: 'stale', hostnames: [], targets: ['127.0.0.1:9'] });
    const version = a.edge.publishAll();
    expect(a.reader.snapshot()).toMatchObject({
      version,
      routes: [{ project: 'kept', hostnames: [], targets: ['127.0.0.1:4001'] }],
    });
  });

  test("counts only the edge's reports about the current store", async () => {
    const a = apiSide();
    const version = a.edge.setRoute(route(['127.0.0.1:4001']));
    expect(a.edge.progress()).toEqual({ appliedVersion: -1, draining: [] }); // no edge has reported yet
    a.report({ applied: { storeId: 'an-older-store', version: 99 }, draining: [], stats, at: '' });
    expect(a.edge.progress().appliedVersion).toBe(-1);
    expect(await waitApplied(a.edge, version, 100)).toBe(false);
    const storeId = a.real.head().storeId;
    const draining = [{ target: '127.0.0.1:4000', inflight: 1 }];
    a.report({ applied: { storeId, version }, draining, stats, at: '' });
    expect(a.edge.progress()).toEqual({ appliedVersion: version, draining });
    expect(await waitApplied(a.edge, version, 100)).toBe(true);
    expect(await waitDrained(a.edge, version, ['127.0.0.1:4000'], 100)).toBe('timeout');
    a.report({ applied: { storeId, version }, draining: [], stats, at: '' });
    expect(await waitDrained(a.edge, version, ['127.0.0.1:4000'], 100)).toBe('drained');
    expect(a.edge.stats()).toEqual(stats);
  });

  test('an install upgraded from a Slipway that kept the edge tables in slipway.db publishes its routes on start', () => {
    const a = apiSide({
      db: (dataDir) => {
        // slipway.db as Slipway left it before the edge stores: at migration 8, routes and edge reports inside.
        const file = join(dataDir, 'slipway.db');
        const old = new Database(file);
        migrate(old, 8);
        old
          .prepare(
            'INSERT INTO edge_routes (project, deployment_id, hostnames, targets, updated_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run('web', 'dep_1', '["www.example.com"]', '["127.0.0.1:4001"]', '2025-01-01T00:00:00.000Z');
        old.exec("UPDATE edge_meta SET value = 7; INSERT INTO meta (key, value) VALUES ('edge_stats', '{}')");
        old.close();
        return openDatabase(file);
      },
    });
    const tables = (
      a.db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'edge%'").all() as { name: string }[]
    ).map((t) => t.name);
    expect(tables).toEqual(['edge_routes']);
    expect(a.db.prepare("SELECT count(*) AS n FROM meta WHERE key = 'edge_stats'").get()).toEqual({ n: 0 });
    expect(existsSync(routeStoreFile(a.dataDir))).toBe(false);
    const version = a.edge.publishAll();
    expect(a.reader.snapshot()).toMatchObject({
      version,
      routes: [{ project: 'web', hostnames: ['www.example.com'], targets: ['127.0.0.1:4001'] }],
    });
  });
});
