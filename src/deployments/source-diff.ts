/**
 * What changed between two stored sources: each normalised tar.gz is read as a stream and every
 * entry hashed (content, plus the target of a link and the executable bit), so no file is held in
 * memory and the sources' own size limits bound the work.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { nodeZlib, tarStream } from '../lazy-libraries.ts';

/** Files of the newer source that the older lacks, files it dropped, and files whose content changed. */
export interface SourceDiff {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: number;
}

/** Compares the stored sources at `fromPath` and `toPath` (absolute paths of tar.gz files). */
export async function diffSources(fromPath: string, toPath: string): Promise<SourceDiff> {
  const [from, to] = await Promise.all([digestEntries(fromPath), digestEntries(toPath)]);
  const added: string[] = [];
  const changed: string[] = [];
  let unchanged = 0;
  for (const [path, digest] of to) {
    const before = from.get(path);
    if (before === undefined) added.push(path);
    else if (before !== digest) changed.push(path);
    else unchanged++;
  }
  const removed = [...from.keys()].filter((path) => !to.has(path));
  return { added: added.sort(), removed: removed.sort(), changed: changed.sort(), unchanged };
}

/** Every file and link of a tar.gz, by path, with a digest of what it holds. */
async function digestEntries(path: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const tar = tarStream().extract();
  tar.on('entry', (header, stream, next) => {
    if (header.type === 'directory') {
      stream.resume();
      stream.on('end', next);
      return;
    }
    const hash = new Bun.CryptoHasher('sha256');
    hash.update(`${header.type}\0${header.linkname ?? ''}\0${(header.mode ?? 0) & 0o111 ? 'x' : '-'}\0`);
    stream.on('data', (chunk: unknown) => void hash.update(chunk as Buffer));
    stream.on('end', () => {
      out.set(header.name.replace(/^\.\//, ''), hash.digest('hex'));
      next();
    });
  });
  await pipeline(createReadStream(path), nodeZlib().createGunzip(), tar);
  return out;
}
