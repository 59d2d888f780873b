import { existsSync } from 'node:fs';
import Database from 'better-sqlite3/linux-x64';
import { migrate } from './migrate.ts';
import { installImage } from './fresh.ts';
import { freshImage } from './fresh-image.ts';
import { countWrites } from './write-count.ts';
import { prepareLazily } from './lazy-statements.ts';

/** The SQLite handle type used across the repositories. */
export type Db = Database.Database;

/**
 * Opens (creating if needed) the database at `file`, sets the pragmas Slipway relies on
 * (WAL, foreign keys, secure delete) and applies pending migrations. `:memory:` works for tests.
 * In the executable a new file starts from the migrated image it carries (src/db/fresh.ts).
 */
export function openDatabase(file: string): Db {
  const image = file === ':memory:' ? null : freshImage();
  if (image && !existsSync(file)) installImage(file, image);
  const db = new Database(file);
  // Before anything prepares a statement: the read caches rely on every write being counted.
  countWrites(db);
  prepareLazily(db);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Deleted rows (sealed keys, secrets) are overwritten rather than left in free pages.
  db.pragma('secure_delete = ON');
  migrate(db);
  return db;
}
