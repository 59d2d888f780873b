import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { addonFile, cachedCopy } from '../../src/db/sqlite-addon.ts';

const uid = process.getuid!();
let root = '';
let source = '';

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'slipway-addon-'));
  source = join(root, 'linux-x64-abc123.node');
  writeFileSync(source, 'the addon');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("SQLite's addon outside the executable", () => {
  test('is copied once into a new private directory, then loaded from that copy', () => {
    const dir = join(root, 'cache');
    const copy = cachedCopy(source, dir, uid);
    expect(copy).toBe(join(dir, 'better-sqlite3-linux-x64-abc123.node'));
    expect(readFileSync(copy, 'utf8')).toBe('the addon');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const made = statSync(copy);
    expect(cachedCopy(source, dir, uid)).toBe(copy);
    expect(statSync(copy).mtimeMs).toBe(made.mtimeMs);
    expect(statSync(copy).ino).toBe(made.ino);
    expect(readdirSync(dir)).toEqual(['better-sqlite3-linux-x64-abc123.node']);
  });

  test('replaces a copy of another size (a copy cut short)', () => {
    const dir = join(root, 'cache');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'better-sqlite3-linux-x64-abc123.node'), 'the ad');
    const copy = cachedCopy(source, dir, uid);
    expect(readFileSync(copy, 'utf8')).toBe('the addon');
    expect(readdirSync(dir)).toEqual(['better-sqlite3-linux-x64-abc123.node']);
  });

  test('is loaded from inside the executable when the directory is open to others', () => {
    const dir = join(root, 'cache');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    expect(cachedCopy(source, dir, uid)).toBe(source);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('is loaded from inside the executable when the directory belongs to someone else', () => {
    expect(cachedCopy(source, join(root, 'cache'), uid + 1)).toBe(source);
  });

  test('is loaded from inside the executable when the directory or the copy is a symbolic link', () => {
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, join(root, 'linked'));
    expect(cachedCopy(source, join(root, 'linked'), uid)).toBe(source);

    const dir = join(root, 'cache');
    mkdirSync(dir, { mode: 0o700 });
    const planted = join(root, 'planted.node');
    writeFileSync(planted, 'not addon');
    symlinkSync(planted, join(dir, 'better-sqlite3-linux-x64-abc123.node'));
    // The link is replaced by a copy of the addon; the planted file is never what is loaded.
    const copy = cachedCopy(source, dir, uid);
    expect(copy === source || readFileSync(copy, 'utf8') === 'the addon').toBe(true);
    expect(readFileSync(planted, 'utf8')).toBe('not addon');
  });

  test('is loaded from inside the executable when no copy can be written', () => {
    expect(cachedCopy(join(root, 'missing.node'), join(root, 'cache'), uid)).toBe(join(root, 'missing.node'));
    expect(existsSync(join(root, 'cache'))).toBe(true);
    expect(readdirSync(join(root, 'cache'))).toEqual([]);
  });

  test('is loaded where it is when it is not embedded in an executable (run from source)', () => {
    const file = resolve(import.meta.dir, '../../node_modules/better-sqlite3/prebuilds/linux-x64.node');
    expect(addonFile(file)).toBe(file);
  });
});
