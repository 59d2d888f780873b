import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip, gunzipSync } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { normalizeArchive } from '../../src/archive/normalize.ts';
import { DEFAULT_LIMITS } from '../../src/archive/limits.ts';
import type { ArchiveFormat } from '../../src/archive/sniff.ts';
import { markZipEncrypted, tarOf, tgzOf, zipOf, type TestEntry } from '../helpers/archives.ts';

const root = mkdtempSync(join(tmpdir(), 'slipway-archive-'));
const dataDir = join(root, 'data');
require('node:fs').mkdirSync(dataDir);
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

async function normalize(bytes: Buffer, format: ArchiveFormat, limits = DEFAULT_LIMITS) {
  const dir = join(dataDir, `case-${n++}`);
  require('node:fs').mkdirSync(dir, { recursive: true });
  const input = join(dir, 'upload');
  writeFileSync(input, bytes);
  const output = join(dir, 'source.tar.gz');
  const result = await normalizeArchive({ input, format, output, limits, capture: (p) => p === 'package.json' });
  return { result, output };
}

async function rejection(bytes: Buffer, format: ArchiveFormat, limits = DEFAULT_LIMITS): Promise<string> {
  const before = readdirSync(root);
  try {
    await normalize(bytes, format, limits);
  } catch (err) {
    expect((err as { code?: string }).code).toBe('validation_error');
    expect((err as { status?: number }).status).toBe(422);
    // Nothing but Slipway's own directory was ever written, and no partial output remains.
    expect(readdirSync(root)).toEqual(before);
    const dir = join(dataDir, `case-${n - 1}`);
    expect(readdirSync(dir)).toEqual(['upload']);
    return (err as Error).message;
  }
  throw new Error('expected the archive to be rejected');
}

async function entriesOf(
  tgz: string,
): Promise<{ name: string; type: string; mode: number; uid: number; uname: string; body: string }[]> {
  const out: { name: string; type: string; mode: number; uid: number; uname: string; body: string }[] = [];
  const ex = extract();
  Readable.from(gunzipSync(require('node:fs').readFileSync(tgz))).pipe(ex);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.push({
      name: e.header.name,
      type: e.header.type!,
      mode: e.header.mode!,
      uid: e.header.uid!,
      uname: e.header.uname!,
      body: Buffer.concat(chunks).toString(),
    });
  }
  return out;
}

const hostile: [string, TestEntry[], string][] = [
  ['an absolute path', [{ name: '/etc/passwd', body: 'x' }], 'entry "/etc/passwd" has an absolute path'],
  ['a drive letter', [{ name: 'C:/Windows/evil', body: 'x' }], 'entry "C:/Windows/evil" has a drive letter'],
  ['a backslash', [{ name: 'src\\..\\evil', body: 'x' }], 'entry "src\\..\\evil" has a backslash in its name'],
  ['".." in the path', [{ name: 'src/../../evil', body: 'x' }], 'entry "src/../../evil" has ".." in its path'],
  ['a trailing ".."', [{ name: 'a/..', body: 'x' }], 'entry "a/.." has ".." in its path'],
  [
    'a control character',
    [{ name: 'bad\u0007name', body: 'x' }],
    'entry "bad\\x07name" has a control character in its name',
  ],
  ['invalid UTF-8', [{ name: Buffer.from([0x61, 0xff, 0xfe, 0x62]), body: 'x' }], 'has a name that is not valid UTF-8'],
  ['an empty segment', [{ name: 'a//b', body: 'x' }], 'entry "a//b" has an empty path segment'],
  [
    'a hard link',
    [
      { name: 'a', body: 'x' },
      { name: 'b', type: 'hardlink', linkname: 'a' },
    ],
    'entry "b" is a hard link',
  ],
  ['a device', [{ name: 'null', type: 'char-device' }], 'entry "null" is a device file'],
  ['a FIFO', [{ name: 'pipe', type: 'fifo' }], 'entry "pipe" is a FIFO'],
  [
    'a symlink to an absolute path',
    [{ name: 'l', type: 'symlink', linkname: '/etc/shadow' }],
    'entry "l" is a symlink to an absolute path "/etc/shadow"',
  ],
  [
    'a symlink out of the root',
    [{ name: 'a/l', type: 'symlink', linkname: '../../x' }],
    'entry "a/l" is a symlink to "../../x", outside the archive',
  ],
  [
    'a file through a symlink',
    [
      { name: 'l', type: 'symlink', linkname: 'dir' },
      { name: 'l/passwd', body: 'x' },
    ],
    'entry "l/passwd" lies inside "l", which is a symlink',
  ],
  [
    'a duplicate path',
    [
      { name: 'a.txt', body: '1' },
      { name: 'a.txt', body: '2' },
    ],
    'entry "a.txt" appears twice',
  ],
  [
    'a file and a directory of one name',
    [
      { name: 'a', body: '1' },
      { name: 'a/b', body: '2' },
    ],
    'entry "a/b" lies inside "a", which is a file',
  ],
  [
    'a directory then a file of its name',
    [
      { name: 'a/b', body: '1' },
      { name: 'a', body: '2' },
    ],
    'entry "a" is both a directory and a file',
  ],
  [
    'names differing only in case',
    [
      { name: 'README.md', body: '1' },
      { name: 'readme.md', body: '2' },
    ],
    'entry "readme.md" collides with "README.md" (names differ only in case or Unicode form)',
  ],
  [
    'names differing only in Unicode form',
    [
      { name: 'caf\u00e9', body: '1' },
      { name: 'cafe\u0301', body: '2' },
    ],
    'entry "cafe\u0301" collides with "caf\u00e9" (names differ only in case or Unicode form)',
  ],
];

describe('hostile tar and tar.gz uploads are rejected', () => {
  for (const [what, entries, message] of hostile) {
    test(`rejects ${what}`, async () => {
      expect(await rejection(tarOf(entries), 'tar')).toContain(message);
      expect(await rejection(tgzOf(entries), 'tar.gz')).toContain(message);
    });
  }

  test('rejects a path deeper than the limit', async () => {
    const deep = Array.from({ length: 20 }, (_, i) => `d${i}`).join('/');
    expect(await rejection(tarOf([{ name: deep, body: 'x' }]), 'tar', { ...DEFAULT_LIMITS, maxDepth: 16 })).toContain(
      'is nested deeper than 16 levels',
    );
  });

  test('rejects a path longer than the limit', async () => {
    expect(
      await rejection(tarOf([{ name: 'x'.repeat(90), body: 'x' }]), 'tar', { ...DEFAULT_LIMITS, maxPathBytes: 64 }),
    ).toContain('has a path longer than 64 bytes');
  });

  test('rejects too many entries', async () => {
    const entries = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, body: 'x' }));
    expect(await rejection(tarOf(entries), 'tar', { ...DEFAULT_LIMITS, maxEntries: 10 })).toBe(
      'Rejected upload: has more than 10 entries',
    );
  });

  test('rejects a file over the one-file limit from its declared size', async () => {
    expect(
      await rejection(tarOf([{ name: 'big', body: Buffer.alloc(2048) }]), 'tar', {
        ...DEFAULT_LIMITS,
        maxFileBytes: 1024,
      }),
    ).toBe('Rejected upload: entry "big" is larger than the 1024-byte limit for one file');
  });

  test('rejects an upload whose total expanded size passes the limit', async () => {
    const entries = [
      { name: 'a', body: Buffer.alloc(600) },
      { name: 'b', body: Buffer.alloc(600) },
    ];
    expect(await rejection(tarOf(entries), 'tar', { ...DEFAULT_LIMITS, maxTotalBytes: 1000 })).toBe(
      'Rejected upload: entry "b" takes the expanded size past the 1000-byte limit',
    );
  });

  test('stops a gzip bomb long before its expanded size is produced', async () => {
    // 400 MiB of zeros (under the one-file limit) behind a tar header, gzip-compressed to
    // about 400 KiB, streamed from disk.
    const input = join(root, 'bomb.tar.gz');
    const size = 400 * 1024 ** 2;
    const header = tarOf([{ name: 'zeros', body: '' }]).subarray(0, 512);
    header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    let sum = 0;
    header.write('        ', 148, 'latin1');
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0`, 148, 'latin1');
    const zero = Buffer.alloc(1024 * 1024);
    async function* body() {
      yield header;
      for (let i = 0; i < 400; i++) yield zero;
      yield Buffer.alloc(1024);
    }
    await pipeline(Readable.from(body()), createGzip({ level: 9 }), createWriteStream(input));
    const bytes = require('node:fs').readFileSync(input);
    rmSync(input);
    expect(bytes.length).toBeLessThan(2 * 1024 * 1024);
    const message = await rejection(bytes, 'tar.gz');
    expect(message).toBe(
      'Rejected upload: entry "zeros" expands more than 200 times its compressed size, like a compression bomb',
    );
  });

  test('rejects a truncated archive', async () => {
    const whole = tarOf([{ name: 'a.txt', body: 'x'.repeat(5000) }]);
    expect(await rejection(whole.subarray(0, 2000), 'tar')).toStartWith(
      'Rejected upload: the tar archive is truncated or corrupt',
    );
    const gz = tgzOf([{ name: 'a.txt', body: 'x'.repeat(5000) }]);
    expect(await rejection(gz.subarray(0, gz.length - 10), 'tar.gz')).toStartWith(
      'Rejected upload: the tar.gz archive is truncated or corrupt',
    );
  });

  test('rejects bytes that are not an archive', async () => {
    expect(await rejection(Buffer.from('hello world, not a tar'.repeat(40)), 'tar')).toStartWith(
      'Rejected upload: the tar archive is truncated or corrupt',
    );
    expect(await rejection(Buffer.from('not gzip at all'), 'tar.gz')).toStartWith(
      'Rejected upload: the tar.gz archive is truncated or corrupt',
    );
  });
});

describe('hostile zip uploads are rejected', () => {
  for (const [what, entries, message] of hostile) {
    if (what === 'a hard link') continue; // zip has no hard links
    test(`rejects ${what}`, async () => {
      expect(await rejection(await zipOf(entries), 'zip')).toContain(message);
    });
  }

  test('rejects an encrypted zip', async () => {
    expect(await rejection(markZipEncrypted(await zipOf([{ name: 'secret.txt', body: 'x' }])), 'zip')).toBe(
      'Rejected upload: entry "secret.txt" is encrypted',
    );
  });

  test('rejects a zip bomb from its declared sizes before reading it', async () => {
    const zip = await zipOf([{ name: 'zeros', body: Buffer.alloc(64 * 1024 * 1024) }]);
    expect(zip.length).toBeLessThan(200 * 1024);
    expect(await rejection(zip, 'zip')).toBe(
      'Rejected upload: entry "zeros" expands more than 200 times its compressed size, like a compression bomb',
    );
  });

  test('rejects a truncated or corrupt zip', async () => {
    const zip = await zipOf([{ name: 'a.txt', body: 'hello' }]);
    expect(await rejection(zip.subarray(0, zip.length - 30), 'zip')).toStartWith(
      'Rejected upload: the zip archive is truncated or corrupt',
    );
    expect(await rejection(Buffer.from('PK\u0003\u0004 definitely not a zip'), 'zip')).toStartWith(
      'Rejected upload: the zip archive is truncated or corrupt',
    );
  });
});

describe('clean uploads are normalised', () => {
  const entries: TestEntry[] = [
    { name: './', type: 'directory' },
    { name: './package.json', body: '{"name":"app"}' },
    { name: './src/', type: 'directory', mode: 0o2775 },
    { name: './src/index.js', body: 'console.log(1)', mode: 0o4755 },
    { name: './src/link.js', type: 'symlink', linkname: 'index.js' },
    { name: './up', type: 'symlink', linkname: 'src/../package.json' },
  ];

  for (const [format, make] of [
    ['tar', tarOf],
    ['tar.gz', tgzOf],
    ['zip', zipOf],
  ] as const) {
    test(`a ${format} becomes one clean tar.gz with owners reset and setuid bits cleared`, async () => {
      const { result, output } = await normalize(await make(entries), format);
      expect(result.files).toBe(2);
      expect(result.paths).toEqual(['package.json', 'src/index.js', 'src/link.js', 'up']);
      expect(result.captured.get('package.json')?.toString()).toBe('{"name":"app"}');
      expect(existsSync(`${output}.partial`)).toBe(false);
      const out = await entriesOf(output);
      expect(out.map((e) => [e.name, e.type])).toEqual([
        ['package.json', 'file'],
        ['src', 'directory'],
        ['src/index.js', 'file'],
        ['src/link.js', 'symlink'],
        ['up', 'symlink'],
      ]);
      for (const e of out) {
        expect(e.uid).toBe(0);
        expect(e.uname).toBe('root');
        expect(e.mode & 0o7000).toBe(0);
      }
      expect(out.find((e) => e.name === 'src/index.js')).toMatchObject({ mode: 0o755, body: 'console.log(1)' });
    });
  }
});
