import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3/linux-x64';
import { openDatabase } from '../../src/db/open.ts';
import { relaxedCommits } from '../../src/db/relaxed.ts';

const dir = mkdtempSync(join(tmpdir(), 'slipway-relaxed-'));
const file = join(dir, 'slipway.db');
const db = openDatabase(file);
db.exec('CREATE TABLE things (name TEXT PRIMARY KEY)');
const insert = db.prepare('INSERT INTO things (name) VALUES (?)');
const relaxed = relaxedCommits(db);
/** 2 = FULL, 1 = NORMAL. */
const level = () => db.pragma('synchronous', { simple: true }) as number;
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('relaxedCommits', () => {
  test('commits at synchronous NORMAL and leaves the connection at FULL', () => {
    expect(level()).toBe(2);
    let during = -1;
    relaxed(() => {
      during = level();
      insert.run('a');
    });
    expect(during).toBe(1);
    expect(level()).toBe(2);
    // Committed: another connection reads it.
    const other = new Database(file, { readonly: true });
    expect(other.prepare('SELECT name FROM things').pluck().all()).toEqual(['a']);
    other.close();
  });

  test('leaves a transaction opened by someone else synced', () => {
    let during = -1;
    db.transaction(() => {
      relaxed(() => {
        during = level();
        insert.run('b');
      });
    })();
    expect(during).toBe(2);
    expect(level()).toBe(2);
  });

  test('puts the connection back to FULL when the write throws', () => {
    expect(() => relaxed(() => insert.run('a'))).toThrow(/UNIQUE/);
    expect(level()).toBe(2);
  });
});
