import {
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

/** Errors of a filesystem that has no hard links; the image is then renamed into place instead. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Creates the database file `file` from `gzipped`, a whole database image (scripts/fresh-image.ts),
 * unless the file exists. An empty data directory then costs writing ~280 KiB and two fsyncs
 * instead of switching an empty file to WAL (four fsyncs) and running every migration's DDL, much
 * of it ALTER TABLEs that re-parse the schema: about a tenth of `serve`'s start on a new install.
 *
 * The image is written beside the file, synced, then linked into place, which fails if another
 * process created the file meanwhile (that one is kept); a crash leaves either no database or the
 * whole image, never a torn one. Returns whether it created the file. `link` is for tests.
 */
export function installImage(file: string, gzipped: Uint8Array<ArrayBuffer>, link = linkSync): boolean {
  const bytes = Bun.gunzipSync(gzipped);
  const temp = `${file}.${process.pid}.new`;
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const placed = place(temp, file, link);
  if (placed) syncDirectory(dirname(file));
  return placed;
}

/** Moves `temp` to `file` unless `file` exists; false (and `temp` removed) if it does. */
function place(temp: string, file: string, link: typeof linkSync): boolean {
  try {
    link(temp, file);
    unlinkSync(temp);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!NO_HARD_LINKS.has(code)) {
      unlinkSync(temp);
      if (code === 'EEXIST') return false;
      throw err;
    }
  }
  // No hard links here: a rename would replace a file created since this check, which only another
  // agent starting on the same empty directory at the same moment could do.
  if (existsSync(file)) {
    unlinkSync(temp);
    return false;
  }
  renameSync(temp, file);
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
