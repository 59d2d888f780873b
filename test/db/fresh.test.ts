/**
 * The executable starts a new data directory from a migrated database image instead of running the
 * migrations (src/db/fresh.ts, scripts/fresh-image.ts). The image must be the very database the
 * migrations make, and installing it must never clobber or tear a database.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import Database from 'better-sqlite3/linux-x64';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS, migrate } from '../../src/db/migrate.ts';
import { installImage } from '../../src/db/fresh.ts';
import { openDatabase } from '../../src/db/open.ts';
import { buildImage } from '../../scripts/fresh-image.ts';

const scratch = mkdtempSync(join(tmpdir(), 'slipway-fresh-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const image = buildImage();
const gzipped = Bun.gzipSync(new Uint8Array(image));

/** Every schema object and every row, in a stable order. */
function contentsOf(db: Database.Database): unknown {
  const objects = db
    .prepare(
      "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_autoindex%' ORDER BY type, name",
    )
    .all() as { type: string; name: string }[];
  const rows = objects
    .filter((o) => o.type === 'table')
    .map((o) => [o.name, db.prepare(`SELECT * FROM "${o.name}" ORDER BY 1`).all()]);
  return { objects, rows, version: db.pragma('user_version', { simple: true }) };
}

describe('the fresh database image', () => {
  test('holds the same schema, rows and version as a database migrated from empty, in WAL mode', () => {
    const file = join(scratch, 'image.db');
    expect(installImage(file, gzipped)).toBe(true);
    const fromImage = openDatabase(file);
    const migrated = new Database(':memory:');
    migrate(migrated);
    expect(contentsOf(fromImage)).toEqual(contentsOf(migrated));
    expect(fromImage.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(fromImage.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(fromImage.pragma('integrity_check', { simple: true })).toBe('ok');
    fromImage.close();
  });

  test('is the same bytes every time it is built, so it carries nothing of one install', () => {
    expect(buildImage().equals(image)).toBe(true);
  });

  test('is written only for the owner and leaves no temporary file behind', () => {
    const dir = mkdtempSync(join(scratch, 'mode-'));
    installImage(join(dir, 'slipway.db'), gzipped);
    expect(statSync(join(dir, 'slipway.db')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['slipway.db']);
    expect(readFileSync(join(dir, 'slipway.db')).equals(image)).toBe(true);
  });

  test('never replaces a database that already exists', () => {
    const dir = mkdtempSync(join(scratch, 'existing-'));
    const file = join(dir, 'slipway.db');
    writeFileSync(file, 'not to be replaced');
    expect(installImage(file, gzipped)).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('not to be replaced');
    expect(readdirSync(dir)).toEqual(['slipway.db']);
  });

  test('is renamed into place on a filesystem without hard links, and still never over an existing database', () => {
    const noLinks = () => {
      throw Object.assign(new Error('link: operation not permitted'), { code: 'EPERM' });
    };
    const dir = mkdtempSync(join(scratch, 'no-links-'));
    expect(installImage(join(dir, 'slipway.db'), gzipped, noLinks)).toBe(true);
    expect(readFileSync(join(dir, 'slipway.db')).equals(image)).toBe(true);
    expect(installImage(join(dir, 'slipway.db'), gzipped, noLinks)).toBe(false);
    expect(readdirSync(dir)).toEqual(['slipway.db']);
  });

  test('leaves no temporary file behind when linking fails for another reason', () => {
    const dir = mkdtempSync(join(scratch, 'io-error-'));
    const failing = () => {
      throw Object.assign(new Error('link: input/output error'), { code: 'EIO' });
    };
    expect(() => installImage(join(dir, 'slipway.db'), gzipped, failing)).toThrow('input/output error');
    expect(readdirSync(dir)).toEqual([]);
  });
});
