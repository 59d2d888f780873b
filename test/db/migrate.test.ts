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

  test('limited tokens are bound to the ids of their projects, never to a project re-created after they were minted', () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(db, 8); // the version before 009_token_projects
    const project = db.prepare(
      'INSERT INTO projects (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)',
    ) as Database.Statement<[string, string, string, string]>;
    project.run('prj_api', 'api', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z');
    // "web" was deleted in February and created again, for someone else, in March.
    project.run('prj_web2', 'web', '2024-03-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z');
    db.prepare(
      `INSERT INTO activity (id, created_at, action, target_type, target, project)
       VALUES ('act_1', '2024-02-01T00:00:00.000Z', 'project.delete', 'project', 'web', 'web')`,
    ).run();
    const token = db.prepare(
      `INSERT INTO tokens (id, name, hash, hint, scope, projects, created_at) VALUES (?, ?, ?, 'h', 'deploy', ?, ?)`,
    ) as Database.Statement<[string, string, string, string | null, string]>;
    token.run('tok_old', 'old', 'h1', '["api","web"]', '2024-01-15T00:00:00.000Z');
    token.run('tok_new', 'new', 'h2', '["blog","web"]', '2024-04-01T00:00:00.000Z');
    token.run('tok_all', 'all', 'h3', null, '2024-01-15T00:00:00.000Z');

    migrate(db);

    expect(db.prepare('SELECT id, limited FROM tokens ORDER BY id').all()).toEqual([
      { id: 'tok_all', limited: 0 },
      { id: 'tok_new', limited: 1 },
      { id: 'tok_old', limited: 1 },
    ]);
    expect(db.prepare('SELECT token_id, name, project_id FROM token_projects ORDER BY token_id, name').all()).toEqual([
      // Minted after "web" came back: bound to it; "blog" waits for its project.
      { token_id: 'tok_new', name: 'blog', project_id: null },
      { token_id: 'tok_new', name: 'web', project_id: 'prj_web2' },
      // Minted for the first "web": that grant is gone; "api" was never deleted.
      { token_id: 'tok_old', name: 'api', project_id: 'prj_api' },
    ]);
    expect(db.prepare("SELECT count(*) AS n FROM pragma_table_info('tokens') WHERE name = 'projects'").get()).toEqual({
      n: 0,
    });
  });

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

  test('a migration failing after others succeeded leaves the database as it was before this start', () => {
    const db = new Database(':memory:');
    migrate(db, 2);
    // A table that migration 4 or a later one creates: the run fails there, after 3 succeeded.
    const table = MIGRATIONS.slice(3)
      .map((sql) => /CREATE TABLE (?:IF NOT EXISTS )?(\w+)/i.exec(sql)?.[1])
      .find((name) => name !== undefined);
    if (!table) throw new Error('no later migration creates a table');
    db.exec(`CREATE TABLE ${table} (blocker TEXT)`);
    const before = db.prepare('SELECT name FROM sqlite_master ORDER BY name').all();
    expect(() => migrate(db)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare('SELECT name FROM sqlite_master ORDER BY name').all()).toEqual(before);
  });

  test('openDatabase sets WAL, foreign keys, busy timeout, full sync and secure delete', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-db-'));
    try {
      const db = openDatabase(join(dir, 'x.db'));
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(db.pragma('secure_delete', { simple: true })).toBe(1);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
