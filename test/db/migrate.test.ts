import { describe, expect, test } from 'bun:test';
import Database from 'better-sqlite3/linux-x64';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS, migrate } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open.ts';

function schemaOf(db: Database.Database): unknown[] {
  return db
    .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
    .all();
}

describe('migrations', () => {
  test('apply to an empty database and record the version', () => {
    const db = new Database(':memory:');
    expect(migrate(db)).toBe(MIGRATIONS.length);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(schemaOf(db).length).toBeGreaterThan(0);
  });

  for (let from = 0; from < MIGRATIONS.length; from++) {
    test(`upgrade a database at version ${from} to the same schema as a fresh one`, () => {
      const fresh = new Database(':memory:');
      migrate(fresh);
      const old = new Database(':memory:');
      migrate(old, from);
      expect(old.pragma('user_version', { simple: true })).toBe(from);
      migrate(old);
      expect(old.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(schemaOf(old)).toEqual(schemaOf(fresh));
    });
  }

  test('running them again changes nothing', () => {
    const db = new Database(':memory:');
    migrate(db);
    const before = schemaOf(db);
    migrate(db);
    expect(schemaOf(db)).toEqual(before);
  });

  test('a database from a newer Slipway is refused, not damaged', () => {
    const db = new Database(':memory:');
    migrate(db);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    expect(() => migrate(db)).toThrow(/newer than this Slipway/);
  });

  test('a failing migration leaves the database at its previous version', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE tokens (id TEXT)'); // makes migration 1 fail half way
    expect(() => migrate(db)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'projects'").get()).toEqual({ n: 0 });
  });

  test('openDatabase sets WAL, foreign keys, busy timeout and full sync', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-db-'));
    try {
      const db = openDatabase(join(dir, 'x.db'));
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
