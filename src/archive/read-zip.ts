import type { Readable } from 'node:stream';
import type { Entry, ZipFile } from 'yauzl';
import { yauzl } from '../lazy-libraries.ts';
import { ArchiveError, type RawEntry } from './entry.ts';

const S_IFMT = 0o170000;
const KINDS: Record<number, RawEntry['type']> = {
  0o100000: 'file',
  0o040000: 'directory',
  0o120000: 'symlink',
  0o020000: 'device',
  0o060000: 'device',
  0o010000: 'fifo',
  0o140000: 'other', // socket
};
const MAX_SYMLINK_TARGET = 4096;

/**
 * Reads a zip file entry by entry with yauzl, which checks each entry's real size against the
 * central directory. `checkDeclared` sees every entry's declared sizes before its data is read.
 */
export async function* readZip(
  path: string,
  checkDeclared: (name: string, compressed: number, uncompressed: number) => void,
): AsyncGenerator<RawEntry> {
  const zip = await new Promise<ZipFile>((resolve, reject) =>
    yauzl().open(
      path,
      { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false },
      (err, z) => (err ? reject(err) : resolve(z!)),
    ),
  );
  try {
    while (true) {
      const entry = await nextEntry(zip);
      if (!entry) return;
      const name = entry.fileName as unknown as Buffer;
      checkDeclared(name.toString('utf8'), entry.compressedSize, entry.uncompressedSize);
      const raw = describe(entry, name);
      if (raw.encrypted || (raw.type !== 'file' && raw.type !== 'symlink')) {
        yield raw;
        continue;
      }
      const body = await openStream(zip, entry);
      if (raw.type === 'symlink') {
        raw.linkTarget = await readSmall(body, MAX_SYMLINK_TARGET, name.toString('utf8'));
        yield raw;
      } else {
        yield { ...raw, body };
        body.resume();
      }
    }
  } finally {
    zip.close();
  }
}

function describe(entry: Entry, name: Buffer): RawEntry {
  const madeOnUnix = entry.versionMadeBy >> 8 === 3;
  const unixMode = madeOnUnix ? (entry.externalFileAttributes >>> 16) & 0xffff : 0;
  const isDir = name.at(-1) === 0x2f;
  let type: RawEntry['type'] = isDir ? 'directory' : 'file';
  if (unixMode & S_IFMT) type = KINDS[unixMode & S_IFMT] ?? 'other';
  return {
    name,
    type,
    mode: unixMode & 0o7777 || (type === 'directory' ? 0o755 : 0o644),
    mtime: entry.getLastModDate(),
    size: entry.uncompressedSize,
    encrypted: entry.isEncrypted(),
  };
}

function nextEntry(zip: ZipFile): Promise<Entry | null> {
  return new Promise((resolve, reject) => {
    const onEntry = (e: Entry) => done(null, e);
    const onEnd = () => done(null, null);
    const onError = (err: Error) => done(err, null);
    const done = (err: Error | null, e: Entry | null) => {
      zip.off('entry', onEntry).off('end', onEnd).off('error', onError);
      if (err) reject(err);
      else resolve(e);
    };
    zip.on('entry', onEntry).on('end', onEnd).on('error', onError);
    zip.readEntry();
  });
}

function openStream(zip: ZipFile, entry: Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s!))));
}

async function readSmall(stream: Readable, max: number, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > max) throw new ArchiveError(`is a symlink whose target is longer than ${max} bytes`, name);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
