import type { Readable } from 'node:stream';
import type { Header } from 'tar-stream';
import { nodeZlib, tarStream } from '../lazy-libraries.ts';
import type { EntryType, RawEntry } from './entry.ts';

const TYPES: Record<string, EntryType> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'directory',
  symlink: 'symlink',
  link: 'hardlink',
  'character-device': 'device',
  'block-device': 'device',
  fifo: 'fifo',
};

/** Reads a tar (optionally gzip-compressed) stream entry by entry, without touching the disk. */
export async function* readTar(source: Readable, gzip: boolean): AsyncGenerator<RawEntry> {
  // latin1 keeps the raw bytes of ustar names, so invalid UTF-8 can be detected, not replaced.
  const extract = tarStream().extract({ filenameEncoding: 'latin1' } as never);
  const input = gzip ? source.pipe(nodeZlib().createGunzip()) : source;
  source.on('error', (err) => extract.destroy(err));
  if (gzip) input.on('error', (err) => extract.destroy(err));
  input.pipe(extract);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      yield {
        name: nameOf(h, 'path', h.name),
        type: TYPES[h.type ?? 'file'] ?? 'other',
        mode: h.mode ?? 0o644,
        mtime: h.mtime instanceof Date && !Number.isNaN(h.mtime.getTime()) ? h.mtime : new Date(0),
        size: h.size ?? 0,
        linkTarget: h.linkname ? decodeName(nameOf(h, 'linkpath', h.linkname)) : undefined,
        uid: h.uid,
        gid: h.gid,
        body: entry as unknown as Readable,
      };
      entry.resume(); // drains whatever the consumer left unread
    }
  } finally {
    input.unpipe(extract);
    source.destroy();
  }
}

// PAX values are already UTF-8 decoded by tar-stream; ustar fields arrive as latin1 strings.
function nameOf(h: Header, paxKey: string, value: string): Buffer | string {
  const pax = (h.pax as Record<string, string> | undefined)?.[paxKey];
  return typeof pax === 'string' ? pax : Buffer.from(value, 'latin1');
}

function decodeName(name: Buffer | string): string {
  return typeof name === 'string' ? name : name.toString('utf8');
}
