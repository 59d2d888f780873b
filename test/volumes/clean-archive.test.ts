import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { extract, pack } from 'tar-stream';
import { cleanVolumeArchive } from '../../src/volumes/clean-archive.ts';
import { ArchiveError } from '../../src/archive/entry.ts';
import { tarOf, type TestEntry } from '../helpers/archives.ts';

const dir = mkdtempSync(join(tmpdir(), 'slipway-volume-archive-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LIMITS = { maxEntries: 100, maxBytes: 1000 };

async function clean(bytes: Buffer, opts: { gzip?: boolean; limits?: typeof LIMITS } = {}) {
  const input = join(dir, `in-${crypto.randomUUID()}`);
  const output = join(dir, `out-${crypto.randomUUID()}.tar`);
  writeFileSync(input, opts.gzip ? gzipSync(bytes) : bytes);
  const result = await cleanVolumeArchive({
    input,
    gzip: opts.gzip ?? false,
    output,
    prefix: 'volume',
    limits: opts.limits ?? LIMITS,
  });
  return { result, output };
}

async function headersOf(path: string) {
  const out: { name: string; type: string; mode: number; uid: number; gid: number; linkname?: string | null }[] = [];
  const ex = extract();
  Readable.from([readFileSync(path)]).pipe(ex);
  for await (const e of ex) {
    const { name, type, mode, uid, gid, linkname } = e.header;
    out.push({ name, type: type ?? 'file', mode: mode ?? 0, uid: uid ?? 0, gid: gid ?? 0, linkname });
    e.resume();
  }
  return out;
}

/** A tar with owners, built with tar-stream (tarOf writes uid 1000 for every entry). */
async function ownedTar(
  entries: { name: string; type?: 'file' | 'directory'; mode: number; uid: number; body?: string }[],
) {
  const p = pack();
  for (const e of entries)
    p.entry({ name: e.name, type: e.type ?? 'file', mode: e.mode, uid: e.uid, gid: e.uid }, e.body ?? '');
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const HOSTILE: [string, TestEntry[], string][] = [
  [
    'an entry that escapes the root',
    [{ name: '../etc/passwd', body: 'x' }],
    'entry "../etc/passwd" has ".." in its path',
  ],
  ['an absolute path', [{ name: '/etc/passwd', body: 'x' }], 'entry "/etc/passwd" has an absolute path'],
  ['a device file', [{ name: 'tty', type: 'char-device' }], 'entry "tty" is a device file'],
  ['a FIFO', [{ name: 'pipe', type: 'fifo' }], 'entry "pipe" is a FIFO'],
  [
    'a symlink out of the root',
    [{ name: 'up', type: 'symlink', linkname: '../../etc' }],
    'entry "up" is a symlink to "../../etc", outside the archive',
  ],
  [
    'a symlink to an absolute path',
    [{ name: 'abs', type: 'symlink', linkname: '/etc' }],
    'entry "abs" is a symlink to an absolute path "/etc"',
  ],
  [
    'an entry placed through a symlink',
    [
      { name: 'sub', type: 'directory' },
      { name: 'sub/up', type: 'symlink', linkname: '..' },
      { name: 'sub/up/x', body: 'x' },
    ],
    'entry "sub/up/x" lies inside "sub/up", which is a symlink',
  ],
  [
    'a hard link to a path not in the archive',
    [{ name: 'link', type: 'hardlink', linkname: 'etc/shadow' }],
    'entry "link" is a hard link to something other than a file earlier in the archive',
  ],
  [
    'a hard link out of the root',
    [{ name: 'link', type: 'hardlink', linkname: '../x' }],
    'entry "../x" has ".." in its path',
  ],
  [
    'a control character in a name',
    [{ name: 'a\nb', body: 'x' }],
    'entry "a\\x0ab" has a control character in its name',
  ],
  [
    'a name that appears twice',
    [
      { name: 'a', body: '1' },
      { name: 'a', body: '2' },
    ],
    'entry "a" appears twice',
  ],
  [
    'more content than allowed',
    [{ name: 'big', body: 'x'.repeat(1001) }],
    'entry "big" takes the restored size past the 1000-byte limit',
  ],
];

describe('cleaning an archive that is to fill a volume', () => {
  for (const [what, entries, message] of HOSTILE) {
    for (const gzip of [false, true]) {
      test(`rejects ${what}${gzip ? ' (tar.gz)' : ''}`, async () => {
        const err = await clean(tarOf(entries), { gzip }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ArchiveError);
        expect((err as Error).message).toBe(`Rejected upload: ${message}`);
        expect((err as ArchiveError).status).toBe(422);
      });
    }
  }

  test('rejects more entries than allowed', async () => {
    const entries = Array.from({ length: 4 }, (_, i) => ({ name: `f${i}`, body: 'x' }));
    const err = await clean(tarOf(entries), { limits: { maxEntries: 3, maxBytes: 1000 } }).catch((e: Error) => e);
    expect((err as Error).message).toBe('Rejected upload: has more than 3 entries');
  });

  test('rejects a truncated archive and leaves no output', async () => {
    const whole = tarOf([{ name: 'a', body: 'x'.repeat(600) }]);
    const before = new Set(readdirSync(dir));
    const err = await clean(whole.subarray(0, 700)).catch((e: Error) => e);
    expect((err as Error).message).toStartWith('Rejected upload: the tar archive is truncated or corrupt');
    expect(readdirSync(dir).filter((f) => !before.has(f) && f.startsWith('out-'))).toEqual([]);
  });

  test('keeps owners and names differing only in case, clears setuid and setgid, and puts everything under the prefix', async () => {
    const tar = await ownedTar([
      { name: './', type: 'directory', mode: 0o700, uid: 1000 },
      { name: 'README', mode: 0o644, uid: 1000, body: 'upper' },
      { name: 'readme', mode: 0o644, uid: 1000, body: 'lower' },
      { name: 'tool', mode: 0o6755, uid: 0, body: '#!/bin/sh' },
    ]);
    const { result, output } = await clean(tar);
    expect(result).toEqual({ entries: 4, bytes: 19 });
    expect((await headersOf(output)).map(({ name, type, mode, uid }) => ({ name, type, mode, uid }))).toEqual([
      { name: 'volume/', type: 'directory', mode: 0o700, uid: 1000 },
      { name: 'volume/README', type: 'file', mode: 0o644, uid: 1000 },
      { name: 'volume/readme', type: 'file', mode: 0o644, uid: 1000 },
      { name: 'volume/tool', type: 'file', mode: 0o755, uid: 0 },
    ]);
  });

  test('keeps symlinks inside the root and hard links to earlier files', async () => {
    const { output } = await clean(
      tarOf([
        { name: 'dir', type: 'directory' },
        { name: 'dir/a', body: 'a' },
        { name: 'dir/link', type: 'symlink', linkname: 'a' },
        { name: 'hard', type: 'hardlink', linkname: 'dir/a' },
      ]),
    );
    const headers = await headersOf(output);
    expect(headers.map((h) => [h.name, h.type, h.linkname ?? null])).toEqual([
      ['volume/dir', 'directory', null],
      ['volume/dir/a', 'file', null],
      ['volume/dir/link', 'symlink', 'a'],
      ['volume/hard', 'link', 'volume/dir/a'],
    ]);
    expect(existsSync(output)).toBe(true);
  });
});
