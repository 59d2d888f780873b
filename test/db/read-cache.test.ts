import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3/linux-x64';
import { openDatabase } from '../../src/db/open.ts';
import { changeCounter, ReadCache } from '../../src/db/read-cache.ts';

const db = openDatabase(':memory:');
db.exec('CREATE TABLE things (name TEXT PRIMARY KEY, value INTEGER)');
const insert = db.prepare('INSERT INTO things (name, value) VALUES (?, ?)');
const byName = db.prepare('SELECT value FROM things WHERE name = ?').pluck();
afterAll(() => db.close());

/** A cache over `things` that counts the reads it makes. */
function cacheOverThings(maxKeys?: number) {
  const cache = new ReadCache<number>(changeCounter(db), maxKeys);
  let reads = 0;
  const get = (name: string) =>
    cache.get(name, () => {
      reads++;
      return byName.get(name) as number | undefined;
    });
  return { cache, get, reads: () => reads };
}

describe('ReadCache', () => {
  test('reads a value once while nothing is written', () => {
    insert.run('a', 1);
    const { get, reads } = cacheOverThings();
    expect([get('a'), get('a'), get('a')]).toEqual([1, 1, 1]);
    expect(reads()).toBe(1);
  });

  test('any write, even to another table or one rolled back, makes the next lookup read again', () => {
    const { get, reads } = cacheOverThings();
    expect(get('a')).toBe(1);
    db.prepare("UPDATE things SET value = 2 WHERE name = 'a'").run();
    expect(get('a')).toBe(2);
    db.exec('CREATE TABLE IF NOT EXISTS other (x)');
    db.prepare('INSERT INTO other VALUES (1)').run();
    expect(get('a')).toBe(2);
    expect(reads()).toBe(3);
    expect(() =>
      db.transaction(() => {
        db.prepare("UPDATE things SET value = 3 WHERE name = 'a'").run();
        throw new Error('rolled back');
      })(),
    ).toThrow('rolled back');
    expect(get('a')).toBe(2);
    expect(reads()).toBe(4);
  });

  test('never keeps a miss: a row inserted later is found at once', () => {
    const { get, reads } = cacheOverThings();
    expect(get('later')).toBeUndefined();
    expect(get('later')).toBeUndefined();
    expect(reads()).toBe(2);
    insert.run('later', 7);
    expect(get('later')).toBe(7);
  });

  test('does not keep a value whose load wrote to the database', () => {
    const cache = new ReadCache<number>(changeCounter(db));
    let loads = 0;
    const load = () => {
      loads++;
      db.prepare("UPDATE things SET value = value WHERE name = 'a'").run();
      return 1;
    };
    cache.get('a', load);
    cache.get('a', load);
    expect(loads).toBe(2);
  });

  test('holds at most maxKeys values, dropping the oldest first', () => {
    for (const n of ['k1', 'k2', 'k3']) insert.run(n, 0);
    const { cache, get, reads } = cacheOverThings(2);
    get('k1');
    get('k2');
    get('k3');
    expect(cache.size).toBe(2);
    get('k3');
    get('k2');
    expect(reads()).toBe(3);
    get('k1');
    expect(reads()).toBe(4);
  });

  test('a write committed by another connection (another process) makes a lookup a millisecond later read again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-read-cache-'));
    const agent = openDatabase(join(dir, 'slipway.db'));
    const cli = openDatabase(join(dir, 'slipway.db'));
    try {
      agent.exec('CREATE TABLE grants (id TEXT PRIMARY KEY, revoked INTEGER)');
      agent.prepare("INSERT INTO grants VALUES ('t1', 0)").run();
      const revoked = agent.prepare('SELECT revoked FROM grants WHERE id = ?').pluck();
      const cache = new ReadCache<number>(changeCounter(agent));
      expect(cache.get('t1', () => revoked.get('t1') as number)).toBe(0);
      cli.prepare("UPDATE grants SET revoked = 1 WHERE id = 't1'").run();
      await Bun.sleep(2);
      expect(cache.get('t1', () => revoked.get('t1') as number)).toBe(1);
    } finally {
      agent.close();
      cli.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a value read inside a transaction that is then rolled back is not kept', () => {
    const { get, reads } = cacheOverThings();
    expect(get('a')).toBe(2);
    expect(() =>
      db.transaction(() => {
        db.prepare("UPDATE things SET value = 9 WHERE name = 'a'").run();
        expect(get('a')).toBe(9);
        throw new Error('rolled back');
      })(),
    ).toThrow('rolled back');
    expect(get('a')).toBe(2);
    expect(reads()).toBe(3);
  });

  test('counts a write made by a statement with RETURNING, by exec and by a pragma', () => {
    const { get, reads } = cacheOverThings();
    get('a');
    db.prepare("UPDATE things SET value = 4 WHERE name = 'a' RETURNING value").get();
    expect(get('a')).toBe(4);
    db.exec("UPDATE things SET value = 5 WHERE name = 'a'");
    expect(get('a')).toBe(5);
    db.pragma('user_version = 1');
    get('a');
    get('a');
    expect(reads()).toBe(4);
  });

  test('on a connection that does not count its writes, asks SQLite for its changes instead', () => {
    const plain = new Database(':memory:');
    try {
      plain.exec('CREATE TABLE things (name TEXT PRIMARY KEY, value INTEGER)');
      plain.prepare("INSERT INTO things VALUES ('a', 1)").run();
      const value = plain.prepare('SELECT value FROM things WHERE name = ?').pluck();
      const cache = new ReadCache<number>(changeCounter(plain));
      expect(cache.get('a', () => value.get('a') as number)).toBe(1);
      plain.prepare("UPDATE things SET value = 2 WHERE name = 'a'").run();
      expect(cache.get('a', () => value.get('a') as number)).toBe(2);
    } finally {
      plain.close();
    }
  });
});
