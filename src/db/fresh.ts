import { closeSync, constants, fsyncSync, linkSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates the database file `file` from `gzipped`, a whole database image (scripts/fresh-image.ts),
 * unless the file exists. An empty data directory then costs writing ~280 KiB and two fsyncs
 * instead of switching an empty file to WAL (four fsyncs) and running every migration's DDL, much
 * of it ALTER TABLEs that re-parse the schema: about a third of `serve`'s start on a new install.
 *
 * The image is written beside the file, synced, then linked into place, which fails if another
 * process created the file meanwhile (that one is kept); a crash leaves either no database or the
 * whole image, never a torn one. Returns whether it created the file.
 */
export function installImage(file: string, gzipped: Uint8Array<ArrayBuffer>): boolean {
  const bytes = Bun.gunzipSync(gzipped);
  const temp = `${file}.${process.pid}.new`;
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(temp);
  }
  syncDirectory(dirname(file));
  return true;
}

/** Makes a new directory entry durable. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
