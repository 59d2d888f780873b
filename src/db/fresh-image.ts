/**
 * The database file a fresh data directory starts from, gzipped: every migration already applied,
 * in WAL mode. `bun scripts/build.ts` replaces this module in the executable with one holding the
 * image it built from the migrations (scripts/fresh-image.ts); run from source (development, tests)
 * there is none and a new database is migrated from empty, as an existing one is upgraded.
 */
export function freshImage(): Uint8Array<ArrayBuffer> | null {
  return null;
}
