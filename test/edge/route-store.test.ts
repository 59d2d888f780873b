import { afterEach, describe, expect, test } from 'bun:test';
import Database from 'better-sqlite3/linux-x64';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROUTE_STORE_SCHEMA } from '../../src/edge/route-store.ts';
import { RouteStoreReader } from '../../src/edge/route-store-reader.ts';
import { routeStore, type RouteStore } from '../../src/edge/route-store-writer.ts';
import { asUser, canSwitchUsers, TEST_UIDS } from '../helpers/users.ts';

const READER = `${import.meta.dir}/fixtures/store-reader.ts`;
const opened: { close(): void }[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const o of opened.splice(0)) o.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-route-store-'));
  dirs.push(dir);
  return dir;
}

function writer(file: string): RouteStore {
  const store = routeStore(file);
  opened.push(store);
  return store;
}

function reader(file: string): RouteStoreReader {
  const r = new RouteStoreReader(file);
  opened.push(r);
  return r;
}

const web = { project: 'web', hostnames: ['www.example.com'], targets: ['127.0.0.1:4001'] };
const api = { project: 'api', hostnames: [], targets: ['127.0.0.1:4002', '127.0.0.1:4003'] };

describe('the route store', () => {
  test("a removed certificate's key is overwritten in the file, not left in a free page", () => {
    const file = join(tempDir(), 'routes.db');
    const body = randomBytes(300).toString('base64');
    const keyPem = `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
    const store = writer(file);
    store.putCertificate({ hostname: 'a.example.com', certPem: 'CERT', keyPem, notAfter: '2099-01-01T00:00:00.000Z' });
    expect(readFileSync(file).includes(body)).toBe(true);
    store.removeCertificate('a.example.com');
    store.close();
    expect(readFileSync(file).includes(body)).toBe(false);
  });

  test('reads back every write whole, each write raising the version by one', () => {
    const file = join(tempDir(), 'edge', 'routes.db');
    const store = writer(file);
    const r = reader(file);
    const id = store.head().storeId;
    expect(store.head()).toEqual({ storeId: id, version: 0 });
    expect(store.put(web)).toBe(1);
    expect(store.put(api)).toBe(2);
    const none = { hosts: [], certificates: [], challenges: [] };
    expect(r.snapshot()).toEqual({ storeId: id, version: 2, routes: [api, web], ...none });
    expect(store.put({ ...web, targets: [] })).toBe(3);
    expect(store.remove('api')).toBe(4);
    expect(r.snapshot()).toEqual({ storeId: id, version: 4, routes: [{ ...web, targets: [] }], ...none });
    expect(store.replaceAll({ routes: [api], hosts: [], certificates: [] })).toBe(5);
    expect(r.snapshot()).toEqual({ storeId: id, version: 5, routes: [api], ...none });
    expect(r.head()).toEqual({ storeId: id, version: 5 });
  });

  test("reads the same snapshot with Bun's SQLite, which an edge in a process of its own uses", () => {
    const file = join(tempDir(), 'edge', 'routes.db');
    const store = writer(file);
    store.replaceAll({
      routes: [web, api],
      hosts: [{ hostname: 'shop.example.com', project: 'web', redirectToHttps: true, hsts: true }],
      certificates: [
        { hostname: 'shop.example.com', certPem: 'CERT', keyPem: 'KEY', notAfter: '2099-01-01T00:00:00.000Z' },
      ],
    });
    const own = new RouteStoreReader(file, 'bun:sqlite');
    opened.push(own);
    const snapshot = own.snapshot();
    expect(snapshot).toEqual(reader(file).snapshot()!);
    expect(snapshot?.routes).toEqual([api, web]);
    expect(snapshot?.hosts.map((h) => h.hsts)).toEqual([true]);
    expect(own.head()).toEqual(store.head());
  });

  test('carries host names, certificates and unexpired challenges; publishing all keeps the challenges', () => {
    const file = join(tempDir(), 'edge', 'routes.db');
    const store = writer(file);
    const r = reader(file);
    const shop = { hostname: 'shop.example.com', project: 'web', redirectToHttps: true, hsts: false };
    const cert = { hostname: 'shop.example.com', certPem: 'CERT', keyPem: 'KEY', notAfter: '2030-01-01T00:00:00.000Z' };
    const later = new Date(Date.now() + 60_000).toISOString();
    const challenge = { path: '/.well-known/acme-challenge/abc', body: 'abc.xyz', expiresAt: later };
    store.putHost(shop);
    store.putCertificate(cert);
    store.putChallenge(challenge);
    store.putChallenge({ path: '/.well-known/slipway-check/old', body: 'x', expiresAt: new Date(0).toISOString() });
    expect(() => store.putChallenge({ path: '/admin', body: 'x', expiresAt: later })).toThrow('Not a challenge path');
    let snap = r.snapshot()!;
    expect(snap.hosts).toEqual([shop]);
    expect(snap.certificates).toEqual([cert]);
    expect(snap.challenges).toEqual([challenge]);
    store.replaceAll({ routes: [web], hosts: [{ ...shop, hsts: true }], certificates: [] });
    snap = r.snapshot()!;
    expect(snap.hosts).toEqual([{ ...shop, hsts: true }]);
    expect(snap.certificates).toEqual([]);
    expect(snap.challenges).toEqual([challenge]);
    store.removeHost('shop.example.com');
    store.removeChallenge(challenge.path);
    snap = r.snapshot()!;
    expect(snap.hosts).toEqual([]);
    expect(snap.challenges).toEqual([]);
  });

  test('a layout 1 store is read as routes only, and upgraded in place by the writer', () => {
    const file = join(tempDir(), 'edge', 'routes.db');
    mkdirSync(dirname(file), { recursive: true });
    const old = new Database(file);
    old.exec(`CREATE TABLE routes (project TEXT PRIMARY KEY, hostnames TEXT NOT NULL, targets TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE head (id INTEGER PRIMARY KEY CHECK (id = 1), store_id TEXT NOT NULL, version INTEGER NOT NULL);
      INSERT INTO head VALUES (1, 'old-store', 7);
      INSERT INTO routes VALUES ('web', '[]', '["127.0.0.1:4001"]');
      PRAGMA user_version = 1;`);
    old.close();
    const r = reader(file);
    expect(r.snapshot()).toEqual({
      storeId: 'old-store',
      version: 7,
      routes: [{ project: 'web', hostnames: [], targets: ['127.0.0.1:4001'] }],
      hosts: [],
      certificates: [],
      challenges: [],
    });
    r.close();
    const store = writer(file);
    expect(store.putHost({ hostname: 'a.example.com', project: 'web', redirectToHttps: false, hsts: false })).toBe(8);
    expect(
      reader(file)
        .snapshot()
        ?.hosts.map((h) => h.hostname),
    ).toEqual(['a.example.com']);
  });

  test('keeps a rollback journal and mode 0640, whatever the umask', () => {
    const file = join(tempDir(), 'routes.db');
    const umask = process.umask(0o077);
    try {
      writer(file).put(web);
    } finally {
      process.umask(umask);
    }
    expect((statSync(file).mode & 0o7777).toString(8)).toBe('640');
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
    db.close();
  });

  test('is picked up by the reader once it exists, and again when it is made anew', () => {
    const file = join(tempDir(), 'routes.db');
    const r = reader(file);
    expect([r.head(), r.snapshot()]).toEqual([null, null]);
    writeFileSync(file, ''); // the API's open() has created the file, its tables are not there yet
    expect(r.head()).toBe(null);
    rmSync(file);
    const first = writer(file);
    first.put(web);
    const before = r.head()!;
    first.close();
    rmSync(file);
    const second = writer(file);
    second.put(api);
    const after = r.snapshot()!;
    expect(after.storeId).not.toBe(before.storeId);
    expect(after).toMatchObject({ version: 1, routes: [api] });
  });

  test('a file a power cut left damaged is made anew by the API, under a new id, and read again by the edge', () => {
    const file = join(tempDir(), 'routes.db');
    const first = writer(file);
    for (let i = 0; i < 50; i++) first.put({ ...web, project: `p${i}`, hostnames: [`h${i}.example.com`] });
    const before = first.head();
    first.close();
    // A page of the routes table overwritten with garbage, as a write the disk never finished.
    const bytes = readFileSync(file);
    const pageSize = bytes.readUInt16BE(16);
    randomBytes(pageSize).copy(bytes, pageSize * 2);
    writeFileSync(file, bytes);
    const damaged = new Database(file, { readonly: true });
    expect(damaged.pragma('quick_check', { simple: true })).not.toBe('ok');
    damaged.close();

    const second = writer(file);
    expect(second.head().storeId).not.toBe(before.storeId);
    second.replaceAll({ routes: [api], hosts: [], certificates: [] });
    expect(reader(file).snapshot()).toMatchObject({ version: 1, routes: [api] });
  });

  test('a file that is no database at all is made anew too', () => {
    const file = join(tempDir(), 'routes.db');
    writeFileSync(file, randomBytes(4096));
    const store = writer(file);
    store.put(web);
    expect(reader(file).snapshot()).toMatchObject({ version: 1, routes: [web] });
  });

  test('from a newer Slipway is refused by both sides', () => {
    const file = join(tempDir(), 'routes.db');
    writer(file).put(web);
    const db = new Database(file);
    db.pragma(`user_version = ${ROUTE_STORE_SCHEMA + 1}`);
    db.close();
    const newer = new RegExp(
      `Cannot read the route store .*routes\\.db: its layout ${ROUTE_STORE_SCHEMA + 1} is newer than this Slipway \\(${ROUTE_STORE_SCHEMA}\\); upgrade Slipway`,
    );
    expect(() => reader(file).head()).toThrow(newer);
    expect(() => writer(file).head()).toThrow(newer);
  });
});

describe.skipIf(!canSwitchUsers())('an edge that may only read the route store', () => {
  /** The installed layout in small: a data directory the edge may only cross, a store directory it may read. */
  function layout(): string {
    const root = tempDir();
    chmodSync(root, 0o711);
    const data = join(root, 'data');
    mkdirSync(join(data, 'edge'), { recursive: true });
    chownSync(data, 0, TEST_UIDS.edge);
    chmodSync(data, 0o710);
    chownSync(join(data, 'edge'), 0, TEST_UIDS.edge);
    chmodSync(join(data, 'edge'), 0o2750);
    return join(data, 'edge', 'routes.db');
  }

  async function readAs(uid: number, file: string, ms: number): Promise<Record<string, unknown>> {
    const child = Bun.spawn([...asUser(uid), process.execPath, READER, file, String(ms)], {
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const [out, err, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    if (code !== 0) throw new Error(`the reader exited ${code}: ${err}`);
    return JSON.parse(out) as Record<string, unknown>;
  }

  test('reads every version whole while the API writes, and can change neither the file nor its directory', async () => {
    const file = layout();
    const store = writer(file);
    const projects = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const publish = () => {
      const next = store.head().version + 1;
      const made = store.replaceAll({
        routes: projects.map((project) => ({ project, hostnames: [], targets: [`127.0.0.1:${next}`] })),
        hosts: [],
        certificates: [],
      });
      expect(made).toBe(next);
      return made;
    };
    publish();
    expect(statSync(file).gid).toBe(TEST_UIDS.edge); // from the directory's setgid bit, as installed
    const reading = readAs(TEST_UIDS.edge, file, 2500);
    const writeUntil = Date.now() + 1800;
    let writes = 0;
    while (Date.now() < writeUntil) {
      publish();
      writes += 1;
      await Bun.sleep(1);
    }
    const last = store.head().version;
    const seen = await reading;
    expect(seen).toMatchObject({
      uid: TEST_UIDS.edge,
      torn: 0,
      backwards: 0,
      errors: [],
      last,
      openForWriting: 'EACCES',
      sqliteWrite: 'SQLITE_READONLY',
      createBeside: 'EACCES',
    });
    expect(seen.reads as number).toBeGreaterThan(100);
    expect(writes).toBeGreaterThan(20);
    expect(store.head().version).toBe(last); // and nothing it tried changed the store
  });

  test('a user outside the edge group cannot read it at all', async () => {
    const file = layout();
    writer(file).put(web);
    const seen = await readAs(TEST_UIDS.stranger, file, 0);
    expect(seen).toMatchObject({ reads: 0, last: -1 });
    expect(seen.errors).toEqual([expect.stringMatching(/EACCES|SQLITE_CANTOPEN/)]);
  });

  test('could not read it in WAL mode, which is why the store keeps a rollback journal', async () => {
    const file = layout();
    writer(file).put(web);
    const wal = new Database(file); // the API, holding the database open in WAL mode
    opened.push(wal);
    wal.pragma('journal_mode = WAL');
    wal.prepare('SELECT 1').get();
    const seen = await readAs(TEST_UIDS.edge, file, 0);
    expect(seen).toMatchObject({ reads: 0 });
    expect(seen.errors).toEqual([expect.stringMatching(/^SQLITE_(READONLY|CANTOPEN)/)]);
  });
});
