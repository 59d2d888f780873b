/**
 * Packing a directory for upload: walk it (`.slipwayignore`, else `.dockerignore`, with Docker's
 * matching rules; `.git` always skipped; `.env` files left out unless `.slipwayignore` re-includes
 * them), then stream it as tar.gz, pulled by the upload so that nothing is ever buffered whole.
 */
import ignore from '@balena/dockerignore';
import { createReadStream, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack, type Pack } from 'tar-stream';

/** One entry to pack, by its path relative to the root (forward slashes). */
export interface PackEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink';
  size: number;
  mode: number;
  mtime: Date;
  linkname?: string;
}

/** What will be packed: the entries in order, their content bytes, the ignore file used and what was left out. */
export interface PackPlan {
  root: string;
  entries: PackEntry[];
  bytes: number;
  ignoreFile: '.slipwayignore' | '.dockerignore' | null;
  /** Sockets, FIFOs and devices, which an archive cannot carry. */
  skipped: string[];
  /** `.env` and `.env.*` files left out because they hold secrets, which the user's rules did not mention. */
  secretFiles: string[];
}

/** Files the build needs even when the rules exclude them, as the docker CLI does. */
const ALWAYS_KEPT = new Set(['Dockerfile', '.dockerignore']);

/**
 * Files that hold secrets by convention, at any depth. They are left out before the user's rules
 * apply only in a `.slipwayignore`, where a `!.env` rule sends them anyway; with a `.dockerignore`
 * (written for local builds) or no ignore file they are always left out.
 */
const SECRET_FILES = '**/.env\n**/.env.*\n';

/** Walks `root` in name order and decides what goes into the archive. */
export function planPack(root: string): PackPlan {
  const ignoreFile = existsSync(join(root, '.slipwayignore'))
    ? '.slipwayignore'
    : existsSync(join(root, '.dockerignore'))
      ? '.dockerignore'
      : null;
  const text = ignoreFile ? readFileSync(join(root, ignoreFile), 'utf8') : '';
  const own = ignore({ ignorecase: false }).add(text);
  const secrets = ignore({ ignorecase: false }).add(SECRET_FILES);
  // Docker's rules: the last matching line wins.
  const rules = ignore({ ignorecase: false }).add(
    ignoreFile === '.slipwayignore' ? `${SECRET_FILES}${text}` : `${text}\n${SECRET_FILES}`,
  );
  // With an exception (`!keep/this`) inside an excluded directory, the directory must still be walked.
  const hasExceptions = text.split('\n').some((l) => l.trim().startsWith('!'));
  const plan: PackPlan = { root, entries: [], bytes: 0, ignoreFile, skipped: [], secretFiles: [] };
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      if (name === '.git') continue;
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, path));
      const excluded = rules.ignores(path) && !(rel === '' && ALWAYS_KEPT.has(name));
      if (excluded && secrets.ignores(path) && !own.ignores(path)) plan.secretFiles.push(path);
      const base = { path, size: 0, mode: st.mode & 0o777, mtime: st.mtime };
      if (st.isDirectory()) {
        if (excluded && !hasExceptions) continue;
        if (!excluded) plan.entries.push({ ...base, type: 'directory' });
        walk(path);
      } else if (excluded) {
        // Left out: neither packed nor counted.
      } else if (st.isFile()) {
        plan.entries.push({ ...base, type: 'file', size: st.size });
        plan.bytes += st.size;
      } else if (st.isSymbolicLink()) {
        plan.entries.push({ ...base, type: 'symlink', linkname: readlinkSync(join(root, path)) });
      } else {
        plan.skipped.push(path);
      }
    }
  };
  walk('');
  return plan;
}

/** Counts of a running pack: content bytes read from disk and compressed bytes handed to the upload. */
export interface PackProgress {
  read: number;
  sent: number;
}

/**
 * The plan as a tar.gz byte stream. Files are read only as fast as the consumer pulls, so memory
 * stays flat whatever the size. `onProgress` is called as content is read and bytes are sent.
 */
export function packStream(
  plan: PackPlan,
  onProgress: (p: PackProgress) => void = () => {},
): ReadableStream<Uint8Array> {
  const progress: PackProgress = { read: 0, sent: 0 };
  const tar = tarPack();
  const gzip = createGzip();
  Readable.from(tar).pipe(gzip);
  writeEntries(plan, tar, (n) => {
    progress.read += n;
    onProgress(progress);
  }).then(
    () => tar.finalize(),
    (err: Error) => gzip.destroy(err),
  );
  const chunks = gzip[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await chunks.next();
      if (done) return controller.close();
      progress.sent += (value as Buffer).length;
      onProgress(progress);
      controller.enqueue(new Uint8Array(value as Buffer));
    },
    cancel(reason) {
      gzip.destroy(reason instanceof Error ? reason : undefined);
      tar.destroy();
    },
  });
}

async function writeEntries(plan: PackPlan, tar: Pack, onRead: (bytes: number) => void): Promise<void> {
  for (const e of plan.entries) {
    const header = {
      name: e.type === 'directory' ? `${e.path}/` : e.path,
      mode: e.mode,
      mtime: e.mtime,
      uid: 0,
      gid: 0,
    };
    if (e.type === 'directory') tar.entry({ ...header, type: 'directory' });
    else if (e.type === 'symlink') tar.entry({ ...header, type: 'symlink', linkname: e.linkname });
    else {
      const entry = tar.entry({ ...header, type: 'file', size: e.size });
      const count = new Transform({
        transform(chunk: Buffer, _enc, done) {
          onRead(chunk.length);
          done(null, chunk);
        },
      });
      try {
        await pipeline(createReadStream(join(plan.root, e.path)), count, entry as unknown as Writable);
      } catch (err) {
        throw new Error(`Cannot pack ${e.path}: ${(err as Error).message} (did it change while being packed?)`);
      }
    }
  }
}
