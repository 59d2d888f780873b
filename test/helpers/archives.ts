import { gzipSync } from 'node:zlib';
import yazl from 'yazl';

/** One entry of a hand-made archive; `name` may be raw bytes to build invalid names. */
export interface TestEntry {
  name: string | Buffer;
  type?: 'file' | 'directory' | 'symlink' | 'hardlink' | 'char-device' | 'fifo';
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
}

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', 'char-device': '3', directory: '5', fifo: '6' } as const;

/**
 * Builds a ustar archive byte by byte, so tests can write exactly the hostile headers a
 * real attacker would (names up to 100 bytes; no PAX).
 */
export function tarOf(entries: TestEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = type === 'file' ? Buffer.from(e.body ?? '') : Buffer.alloc(0);
    const h = Buffer.alloc(512);
    const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name);
    if (name.length > 100) throw new Error('tarOf takes names up to 100 bytes');
    name.copy(h, 0);
    octal(e.mode ?? (type === 'directory' ? 0o755 : 0o644), 8).copy(h, 100);
    octal(1000, 8).copy(h, 108);
    octal(1000, 8).copy(h, 116);
    octal(body.length, 12).copy(h, 124);
    octal(1_700_000_000, 12).copy(h, 136);
    h.write('        ', 148, 'latin1');
    h.write(TYPEFLAG[type], 156, 'latin1');
    if (e.linkname) h.write(e.linkname, 157, 'utf8');
    h.write('ustar\u000000', 257, 'latin1');
    h.write('user', 265, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    octal(sum, 7).copy(h, 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function octal(n: number, width: number): Buffer {
  return Buffer.from(`${n.toString(8).padStart(width - 1, '0')}\0`, 'latin1');
}

/** tarOf, gzip-compressed. */
export function tgzOf(entries: TestEntry[]): Buffer {
  return gzipSync(tarOf(entries));
}

/** Builds a zip with yazl; symlinks and devices are expressed through the unix mode bits. */
export async function zipOf(entries: TestEntry[], opts: { compress?: boolean } = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  // yazl refuses hostile names, so such entries get a placeholder of the same byte length
  // that is swapped for the real name in the finished bytes (local and central headers).
  const swaps: [Buffer, Buffer][] = [];
  for (const [i, e] of entries.entries()) {
    const real = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name);
    let name = Buffer.isBuffer(e.name) ? real.toString('latin1') : e.name;
    if (Buffer.isBuffer(e.name) || isHostileForYazl(name)) {
      const placeholder = Buffer.from(`Qz${i}`.repeat(real.length).slice(0, real.length), 'latin1');
      swaps.push([placeholder, real]);
      name = placeholder.toString('latin1');
    }
    const type = e.type ?? 'file';
    if (type === 'directory') {
      zip.addEmptyDirectory(name, { mode: e.mode ?? 0o40755 });
    } else {
      const modes = {
        file: 0o100644,
        symlink: 0o120777,
        hardlink: 0o100644,
        'char-device': 0o020644,
        fifo: 0o010644,
      } as const;
      const body = type === 'symlink' ? Buffer.from(e.linkname ?? '') : Buffer.from(e.body ?? '');
      zip.addBuffer(body, name, { mode: e.mode ?? modes[type], compress: opts.compress ?? true });
    }
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  const out = Buffer.concat(chunks);
  for (const [placeholder, real] of swaps) {
    for (let at = out.indexOf(placeholder); at !== -1; at = out.indexOf(placeholder, at + 1)) real.copy(out, at);
  }
  return out;
}

function isHostileForYazl(name: string): boolean {
  const n = name.replace(/\\/g, '/');
  return n.length < 3
    ? false
    : /^[a-zA-Z]:/.test(n) ||
        n.startsWith('/') ||
        n.split('/').includes('..') ||
        name.includes('\\') ||
        n.includes('//');
}

/** Sets the "encrypted" flag on every entry of a zip, local and central headers alike. */
export function markZipEncrypted(zip: Buffer): Buffer {
  const out = Buffer.from(zip);
  for (let i = 0; i < out.length - 4; i++) {
    const sig = out.readUInt32LE(i);
    if (sig === 0x04034b50) out.writeUInt16LE(out.readUInt16LE(i + 6) | 1, i + 6);
    if (sig === 0x02014b50) out.writeUInt16LE(out.readUInt16LE(i + 8) | 1, i + 8);
  }
  return out;
}
