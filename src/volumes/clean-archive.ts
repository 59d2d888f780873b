import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pack } from 'tar-stream';
import { tarStream } from '../lazy-libraries.ts';
import { ArchiveError, type RawEntry } from '../archive/entry.ts';
import { EntryIndex } from '../archive/index-of-entries.ts';
import { DEFAULT_LIMITS } from '../archive/limits.ts';
import { checkEntryPath, checkSymlinkTarget } from '../archive/paths.ts';
import { readTar } from '../archive/read-tar.ts';

/** Bounds a volume archive is held to. */
export interface VolumeArchiveLimits {
  maxEntries: number;
  /** Sum of the sizes of all files. */
  maxBytes: number;
}

/** What cleaning found. */
export interface CleanedArchive {
  entries: number;
  bytes: number;
}

/**
 * Re-writes a tar (or tar.gz) that is to fill a volume into a clean tar whose every entry lies
 * under `prefix/`: names checked as for uploads (no absolute paths, no `..`, no control
 * characters), symlinks only to targets inside the root, no entry placed through a symlink, hard
 * links only to a file met earlier in the archive, no devices or FIFOs, at most `maxEntries`
 * entries and `maxBytes` of file content. Unlike a build context, a volume keeps its numeric
 * owners (the app may run as another user) and names that differ only in case; setuid and setgid
 * bits are cleared. The root entry (`./`) carries the volume root's own mode and owner. Nothing is
 * extracted here, and a rejected archive leaves no output.
 */
export async function cleanVolumeArchive(opts: {
  input: string;
  gzip: boolean;
  output: string;
  prefix: string;
  limits: VolumeArchiveLimits;
}): Promise<CleanedArchive> {
  const pack = tarStream().pack();
  const written = pipeline(pack, createWriteStream(opts.output, { mode: 0o600 }));
  written.catch(() => {}); // observed below
  const state = { entries: 0, bytes: 0, index: new EntryIndex({ foldCase: false }), files: new Set<string>() };
  try {
    for await (const raw of readTar(createReadStream(opts.input), opts.gzip)) {
      await addEntry(raw, pack, state, opts);
    }
    pack.finalize();
    await written;
    return { entries: state.entries, bytes: state.bytes };
  } catch (err) {
    pack.destroy();
    await written.catch(() => {});
    await rm(opts.output, { force: true });
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`the tar archive is truncated or corrupt (${(err as Error).message})`);
  }
}

type State = { entries: number; bytes: number; index: EntryIndex; files: Set<string> };

const PATH_LIMITS = { ...DEFAULT_LIMITS, maxPathBytes: 4096, maxDepth: 256 };

async function addEntry(
  raw: RawEntry,
  pack: Pack,
  state: State,
  opts: { prefix: string; limits: VolumeArchiveLimits },
): Promise<void> {
  const label = typeof raw.name === 'string' ? raw.name : raw.name.toString('utf8');
  if (++state.entries > opts.limits.maxEntries)
    throw new ArchiveError(`has more than ${opts.limits.maxEntries} entries`);
  const path = checkEntryPath(raw.name, PATH_LIMITS);
  if (raw.type === 'device') throw new ArchiveError('is a device file', label);
  if (raw.type === 'fifo') throw new ArchiveError('is a FIFO', label);
  if (raw.type === 'other') throw new ArchiveError('is not a file, directory, symlink or hard link', label);
  const header = {
    mode: raw.mode & 0o1777,
    mtime: raw.mtime,
    uid: ownerId(raw.uid),
    gid: ownerId(raw.gid),
  };
  if (path === null) {
    if (raw.type !== 'directory') throw new ArchiveError('has an empty name', label);
    pack.entry({ ...header, name: `${opts.prefix}/`, type: 'directory' });
    return;
  }
  const name = `${opts.prefix}/${path}`;
  if (raw.type === 'directory') {
    state.index.add(path, 'directory');
    pack.entry({ ...header, name, type: 'directory' });
    return;
  }
  if (raw.type === 'symlink') {
    state.index.add(path, 'symlink');
    checkSymlinkTarget(path, raw.linkTarget ?? '');
    pack.entry({ ...header, name, type: 'symlink', linkname: raw.linkTarget });
    return;
  }
  if (raw.type === 'hardlink') {
    const target = checkEntryPath(raw.linkTarget ?? '', PATH_LIMITS);
    if (target === null || !state.files.has(target))
      throw new ArchiveError('is a hard link to something other than a file earlier in the archive', label);
    state.index.add(path, 'file');
    pack.entry({ ...header, name, type: 'link', linkname: `${opts.prefix}/${target}` });
    state.files.add(path);
    return;
  }
  state.index.add(path, 'file');
  if (state.bytes + raw.size > opts.limits.maxBytes) throw tooLarge(opts.limits.maxBytes, path);
  const sink = pack.entry({ ...header, name, type: 'file', size: raw.size });
  await pipeline(raw.body ?? emptyStream(), counter(state, opts.limits.maxBytes, path), sink);
  state.files.add(path);
}

function ownerId(id: number | undefined): number {
  return id !== undefined && Number.isInteger(id) && id >= 0 && id < 2 ** 31 ? id : 0;
}

function tooLarge(maxBytes: number, path: string): ArchiveError {
  return new ArchiveError(`takes the restored size past the ${maxBytes}-byte limit`, path);
}

function counter(state: State, maxBytes: number, path: string): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      state.bytes += chunk.length;
      if (state.bytes > maxBytes) return cb(tooLarge(maxBytes, path));
      cb(null, chunk);
    },
  });
}

function emptyStream(): Readable {
  const s = new PassThrough();
  s.end();
  return s;
}
