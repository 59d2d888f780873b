/**
 * Where better-sqlite3's native addon is loaded from. In the executable the addon is an embedded
 * file (2.2 MiB), and a native library must be a real file to be loaded: left to itself, Bun reads
 * the whole embedded copy and writes it to /tmp on every start, and the pages it read stay resident
 * in the process for its whole life (about 2 MiB of an idle agent's RSS). Here it is copied once
 * into a private directory of the user's, under a name that carries the embedded file's content hash
 * (Bun's naming), and later starts load that copy without touching the embedded one. A copy of an
 * older version is left where it is (another process may be about to load it), as Bun leaves its
 * own extracted copies in /tmp.
 *
 * The directory must be the user's own, a real directory and closed to others (0700), and the copy
 * a regular file of the user's of the embedded size; otherwise the embedded file is loaded as Bun
 * would (so a planted file is never loaded). Run from source, the file in node_modules is loaded.
 * The build points better-sqlite3's linux-x64 entry at addonFile() (scripts/lazy-requires.ts).
 */
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** Embedded files of a compiled executable live under this root. */
const EMBEDDED_ROOT = '/$bunfs/';

/** The file to load the addon from (see above), given where the executable embeds it. */
export function addonFile(embedded: string): string {
  if (!embedded.startsWith(EMBEDDED_ROOT) || typeof process.getuid !== 'function') return embedded;
  return cachedCopy(embedded, join(tmpdir(), `slipway-${process.getuid()}`), process.getuid());
}

/** `source`'s copy in `dir` (made now if missing), or `source` itself when `dir` cannot be trusted. */
export function cachedCopy(source: string, dir: string, uid: number): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const d = lstatSync(dir);
    if (!d.isDirectory() || d.uid !== uid || (d.mode & 0o077) !== 0) return source;
    const target = join(dir, `better-sqlite3-${basename(source)}`);
    const size = statSync(source).size;
    if (isOwnFile(target, uid, size)) return target;
    const partial = `${target}.${process.pid}.partial`;
    // Not copyFileSync: it cannot read the executable's embedded files.
    writeFileSync(partial, readFileSync(source), { mode: 0o700, flag: 'wx' });
    renameSync(partial, target);
    return isOwnFile(target, uid, size) ? target : source;
  } catch {
    rmSync(join(dir, `better-sqlite3-${basename(source)}.${process.pid}.partial`), { force: true });
    return source;
  }
}

function isOwnFile(file: string, uid: number, size: number): boolean {
  try {
    const s = lstatSync(file);
    return s.isFile() && s.uid === uid && s.size === size;
  } catch {
    return false;
  }
}
