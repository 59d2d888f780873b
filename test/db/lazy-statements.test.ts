import { afterAll, describe, expect, test } from 'bun:test';
import { openDatabase } from '../../src/db/open.ts';
import { prepareAll } from '../../src/db/lazy-statements.ts';
import { writeCounter } from '../../src/db/write-count.ts';
import { makeTestApp } from '../helpers/app.ts';

const db = openDatabase(':memory:');
db.exec('CREATE TABLE things (name TEXT PRIMARY KEY, value INTEGER)');
afterAll(() => db.close());

describe('statements prepared by their first use', () => {
  test('reads the SQL at the first run, so an error surfaces there and not before', () => {
    const broken = db.prepare('SELECT missing FROM no_such_table');
    expect(() => broken.get()).toThrow('no such table: no_such_table');
  });

  test('answer run, get, all and iterate as the statement itself, before and after their first run', () => {
    const insert = db.prepare('INSERT INTO things (name, value) VALUES (?, ?)');
    const one = db.prepare('SELECT value FROM things WHERE name = ?');
    const every = db.prepare('SELECT name, value FROM things ORDER BY name');
    expect(insert.run('a', 1).changes).toBe(1);
    expect(insert.run('b', 2).changes).toBe(1);
    expect(one.get('a')).toEqual({ value: 1 });
    expect(one.get('b')).toEqual({ value: 2 });
    expect(every.all()).toEqual([
      { name: 'a', value: 1 },
      { name: 'b', value: 2 },
    ]);
    expect([...every.iterate()].map((r) => (r as { name: string }).name)).toEqual(['a', 'b']);
  });

  test('keep the modes set before the first run (pluck, raw)', () => {
    db.prepare('INSERT OR REPLACE INTO things (name, value) VALUES (?, ?)').run('c', 3);
    expect(db.prepare('SELECT value FROM things WHERE name = ?').pluck().get('c')).toBe(3);
    expect(db.prepare('SELECT name, value FROM things WHERE name = ?').raw().get('c')).toEqual(['c', 3]);
    const plucked = db.prepare('SELECT value FROM things WHERE name = ?');
    expect(plucked.get('c')).toEqual({ value: 3 });
    expect(plucked.pluck().get('c')).toBe(3);
  });

  test('still count their writes for the read caches, and only their writes', () => {
    const counter = writeCounter(db)!;
    const write = db.prepare('UPDATE things SET value = value + 1 WHERE name = ?');
    const read = db.prepare('SELECT value FROM things WHERE name = ?');
    const before = counter.writes;
    write.run('a');
    expect(counter.writes).toBe(before + 1);
    read.get('a');
    expect(counter.writes).toBe(before + 1);
    expect(read.readonly).toBe(true);
    expect(write.readonly).toBe(false);
  });

  test('of every repository compile against the migrated schema', () => {
    const app = makeTestApp();
    try {
      // The agent's repositories prepare well over a hundred statements; some run only in rare paths.
      expect(prepareAll(app.deps.db)).toBeGreaterThan(100);
      expect(prepareAll(app.deps.db)).toBe(0);
    } finally {
      app.close();
    }
  });
});
