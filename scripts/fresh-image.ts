/**
 * The fresh database image the executable carries (src/db/fresh-image.ts): at build time, a new
 * database in WAL mode gets every migration, is checkpointed and closed, and its file is gzipped
 * (282 KiB of mostly empty pages, ~8 KiB). A new data directory starts from it instead of running
 * the migrations (src/db/fresh.ts).
 *
 * The image must hold nothing specific to one install: it is built twice and the build fails if the
 * two differ (a migration that inserted a random value or a time would make them differ).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BunPlugin } from 'bun';
import Database from 'better-sqlite3/linux-x64';
import { migrate } from '../src/db/migrate.ts';

/** The migrated database file's bytes (not gzipped). */
export function buildImage(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-image-'));
  try {
    const file = join(dir, 'slipway.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    migrate(db);
    // Closing the last connection checkpoints the WAL into the file and deletes it.
    db.close();
    return readFileSync(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Replaces src/db/fresh-image.ts in the executable with the gzipped image. */
export function freshImagePlugin(): BunPlugin {
  const image = buildImage();
  if (!image.equals(buildImage())) throw new Error('fresh-image: two builds of the database image differ');
  const base64 = Buffer.from(Bun.gzipSync(new Uint8Array(image), { level: 9 })).toString('base64');
  const contents = `export function freshImage() { return Buffer.from(${JSON.stringify(base64)}, 'base64'); }`;
  return {
    name: 'slipway-fresh-image',
    setup(b) {
      b.onLoad({ filter: /src\/db\/fresh-image\.ts$/ }, () => ({ contents, loader: 'js' }));
    },
  };
}
