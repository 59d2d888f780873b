import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pack } from 'tar-stream';
import { nodeZlib, tarStream } from '../lazy-libraries.ts';
import { ArchiveError, type RawEntry } from './entry.ts';
import { EntryIndex } from './index-of-entries.ts';
import { DEFAULT_LIMITS, type ArchiveLimits } from './limits.ts';
import { checkEntryPath, checkSymlinkTarget } from './paths.ts';
import { readTar } from './read-tar.ts';
import { readZip } from './read-zip.ts';
import { Reclaimer } from './reclaim.ts';
import type { ArchiveFormat } from './sniff.ts';

/** What normalising found; `captured` holds the small files the caller asked to see. */
export interface NormalizedSource {
  entries: number;
  files: number;
  expandedBytes: number;
  /** Paths of every file and symlink kept, in archive order. */
  paths: string[];
  captured: Map<string, Buffer>;
}

/** Input and output of normaliseArchive. */
export interface NormalizeOptions {
  input: string;
  format: ArchiveFormat;
  /** Where the clean tar.gz goes; written to a temporary name and renamed when complete. */
  output: string;
  limits?: ArchiveLimits;
  /** Files (by clean path) whose content the caller wants back, up to `captureMaxBytes` each. */
  capture?: (path: string) => boolean;
  captureMaxBytes?: number;
}

/**
 * Re-packs an uploaded archive into one clean tar.gz: every entry checked (names, types,
 * collisions, sizes, compression ratio) while streaming, owners set to root, setuid, setgid
 * and sticky bits cleared. Nothing is extracted to disk. Any problem rejects the whole upload
 * with an ArchiveError and leaves no output behind.
 */
export async function normalizeArchive(opts: NormalizeOptions): Promise<NormalizedSource> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const state = new Budget(limits);
  const tmp = `${opts.output}.partial`;
  const pack = tarStream().pack();
  const written = pipeline(pack, nodeZlib().createGzip({ level: 1 }), createWriteStream(tmp, { mode: 0o600 }));
  written.catch(() => {}); // observed below; avoid an unhandled rejection while entries stream
  const result: NormalizedSource = { entries: 0, files: 0, expandedBytes: 0, paths: [], captured: new Map() };
  try {
    for await (const raw of entriesOf(opts, state)) {
      await addEntry(raw, pack, state, result, opts);
    }
    pack.finalize();
    await written;
    result.expandedBytes = state.expanded;
    await rename(tmp, opts.output);
    return result;
  } catch (err) {
    pack.destroy();
    await written.catch(() => {});
    await rm(tmp, { force: true });
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`the ${opts.format} archive is truncated or corrupt (${(err as Error).message})`);
  }
}

/** The running totals and the paths seen, shared by the readers' early checks and the byte counters. */
class Budget {
  entries = 0;
  expanded = 0;
  compressed = 0;
  readonly index = new EntryIndex();
  /** Collects the garbage of the chunks streamed through, as the expanded bytes count up. */
  readonly reclaim = new Reclaimer();
  constructor(readonly limits: ArchiveLimits) {}

  checkRatio(name?: string): void {
    const { maxRatio, ratioFloorBytes } = this.limits;
    if (this.compressed > 0 && this.expanded > ratioFloorBytes && this.expanded / this.compressed > maxRatio) {
      throw new ArchiveError(`expands more than ${maxRatio} times its compressed size, like a compression bomb`, name);
    }
  }
}

function entriesOf(opts: NormalizeOptions, budget: Budget): AsyncGenerator<RawEntry> {
  if (opts.format === 'zip') {
    return readZip(opts.input, (name, compressed, uncompressed) => {
      const { maxRatio, ratioFloorBytes } = budget.limits;
      if (uncompressed > ratioFloorBytes && uncompressed / Math.max(compressed, 1) > maxRatio) {
        throw new ArchiveError(
          `expands more than ${maxRatio} times its compressed size, like a compression bomb`,
          name,
        );
      }
      checkSizes(budget, name, uncompressed);
    });
  }
  const file = createReadStream(opts.input);
  const counted = file.pipe(
    new Transform({
      transform(chunk: Buffer, _enc, cb) {
        budget.compressed += chunk.length;
        cb(null, chunk);
      },
    }),
  );
  file.on('error', (err) => counted.destroy(err));
  return readTar(counted, opts.format === 'tar.gz');
}

function checkSizes(budget: Budget, name: string, size: number): void {
  const { maxFileBytes, maxTotalBytes } = budget.limits;
  if (size > maxFileBytes) throw new ArchiveError(`is larger than the ${maxFileBytes}-byte limit for one file`, name);
  if (budget.expanded + size > maxTotalBytes) {
    throw new ArchiveError(`takes the expanded size past the ${maxTotalBytes}-byte limit`, name);
  }
}

async function addEntry(raw: RawEntry, pack: Pack, budget: Budget, result: NormalizedSource, opts: NormalizeOptions) {
  const label = typeof raw.name === 'string' ? raw.name : raw.name.toString('utf8');
  if (++budget.entries > budget.limits.maxEntries) {
    throw new ArchiveError(`has more than ${budget.limits.maxEntries} entries`);
  }
  if (raw.encrypted) throw new ArchiveError('is encrypted', label);
  const path = checkEntryPath(raw.name, budget.limits);
  if (raw.type === 'hardlink') throw new ArchiveError('is a hard link', label);
  if (raw.type === 'device') throw new ArchiveError('is a device file', label);
  if (raw.type === 'fifo') throw new ArchiveError('is a FIFO', label);
  if (raw.type === 'other') throw new ArchiveError('is not a file, directory or symlink', label);
  if (path === null) {
    if (raw.type !== 'directory') throw new ArchiveError('has an empty name', label);
    return; // the root directory itself
  }
  result.entries++;
  budget.index.add(path, raw.type);
  const mtime = raw.mtime;
  const owner = { uid: 0, gid: 0, uname: 'root', gname: 'root' };

  if (raw.type === 'directory') {
    pack.entry({ name: path, type: 'directory', mode: (raw.mode & 0o777) | 0o700, mtime, ...owner });
    return;
  }
  if (raw.type === 'symlink') {
    checkSymlinkTarget(path, raw.linkTarget ?? '');
    pack.entry({ name: path, type: 'symlink', linkname: raw.linkTarget, mode: 0o777, mtime, ...owner });
    result.paths.push(path);
    return;
  }
  checkSizes(budget, path, raw.size);
  const capture = opts.capture?.(path) && raw.size <= (opts.captureMaxBytes ?? 1024 * 1024) ? ([] as Buffer[]) : null;
  const sink = pack.entry({
    name: path,
    type: 'file',
    size: raw.size,
    mode: (raw.mode & 0o777) | 0o400,
    mtime,
    ...owner,
  });
  await pipeline(raw.body ?? emptyStream(), counter(budget, path, capture), sink);
  if (capture) result.captured.set(path, Buffer.concat(capture));
  result.files++;
  result.paths.push(path);
}

function counter(budget: Budget, path: string, capture: Buffer[] | null): Transform {
  let own = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      own += chunk.length;
      budget.expanded += chunk.length;
      budget.reclaim.add(chunk.length);
      try {
        if (own > budget.limits.maxFileBytes)
          throw new ArchiveError(`is larger than the ${budget.limits.maxFileBytes}-byte limit for one file`, path);
        if (budget.expanded > budget.limits.maxTotalBytes) {
          throw new ArchiveError(`takes the expanded size past the ${budget.limits.maxTotalBytes}-byte limit`, path);
        }
        budget.checkRatio(path);
      } catch (err) {
        cb(err as Error);
        return;
      }
      capture?.push(chunk);
      cb(null, chunk);
    },
  });
}

function emptyStream(): Readable {
  const s = new PassThrough();
  s.end();
  return s;
}
