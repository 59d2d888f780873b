import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { packStream, planPack, type PackProgress } from '../../src/cli/pack.ts';

/** Makes a directory from { "path": "content" }. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'slipway-pack-'));
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), body);
  }
  return root;
}

/** The entries of a tar.gz stream: name, type and body. */
async function unpack(stream: ReadableStream<Uint8Array>): Promise<[string, string, string][]> {
  const entries = extract();
  Readable.fromWeb(stream as never)
    .pipe(createGunzip())
    .pipe(entries as never);
  const out: [string, string, string][] = [];
  for await (const e of entries) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.push([
      e.header.name,
      e.header.type ?? 'file',
      e.header.type === 'symlink' ? `-> ${e.header.linkname}` : Buffer.concat(chunks).toString(),
    ]);
  }
  return out;
}

describe('what gets packed', () => {
  test('everything but .git, in name order, without an ignore file', () => {
    const plan = planPack(
      tree({ 'index.html': 'hi', '.git/HEAD': 'ref', 'css/site.css': 'body{}', 'lib/.git': 'gitdir: x' }),
    );
    expect(plan.ignoreFile).toBeNull();
    expect(plan.entries.map((e) => `${e.type} ${e.path}`)).toEqual([
      'directory css',
      'file css/site.css',
      'file index.html',
      'directory lib',
    ]);
    expect(plan.bytes).toBe(8);
  });

  test('.dockerignore rules with Docker semantics; Dockerfile and .dockerignore are always sent', () => {
    const plan = planPack(
      tree({
        '.dockerignore': 'node_modules\n*.log\nDockerfile\n.dockerignore\n',
        Dockerfile: 'FROM x',
        'a.log': '',
        'src/b.log': 'kept: *.log is top-level only',
        'node_modules/x/i.js': '',
        'app.js': '',
      }),
    );
    expect(plan.ignoreFile).toBe('.dockerignore');
    expect(plan.entries.map((e) => e.path)).toEqual(['.dockerignore', 'Dockerfile', 'app.js', 'src', 'src/b.log']);
  });

  test('.slipwayignore wins over .dockerignore, and exceptions re-include files in excluded directories', () => {
    const plan = planPack(
      tree({
        '.slipwayignore': 'secrets\nvendor\n!vendor/keep.txt\n',
        '.dockerignore': 'app.js\n',
        'app.js': '',
        'secrets/key': 'k',
        'vendor/drop.txt': '',
        'vendor/keep.txt': 'keep',
      }),
    );
    expect(plan.ignoreFile).toBe('.slipwayignore');
    expect(plan.entries.map((e) => e.path)).toEqual(['.dockerignore', '.slipwayignore', 'app.js', 'vendor/keep.txt']);
  });

  test('symlinks are sent as links; the agent decides whether they are safe', () => {
    const root = tree({ 'index.html': 'hi' });
    symlinkSync('index.html', join(root, 'home.html'));
    expect(planPack(root).entries.map((e) => [e.path, e.type, e.linkname])).toEqual([
      ['home.html', 'symlink', 'index.html'],
      ['index.html', 'file', undefined],
    ]);
  });
});

describe('.env files are secrets, left out by default', () => {
  const files = {
    'index.html': 'hi',
    '.env': 'STRIPE_KEY=sk_live_1',
    '.env.local': 'A=1',
    '.env.production': 'B=2',
    'apps/api/.env': 'C=3',
    'apps/api/main.js': '',
    '.envrc': 'use nix',
    'env.example': 'D=',
  };
  const cases: [string, Record<string, string>, string[], string[]][] = [
    [
      'without an ignore file',
      {},
      ['.envrc', 'apps', 'apps/api', 'apps/api/main.js', 'env.example', 'index.html'],
      ['.env', '.env.local', '.env.production', 'apps/api/.env'],
    ],
    [
      'a .dockerignore cannot send them, even with !.env (it is written for local builds)',
      { '.dockerignore': '!.env\n!**/.env*\n' },
      ['.dockerignore', '.envrc', 'apps', 'apps/api', 'apps/api/main.js', 'env.example', 'index.html'],
      ['.env', '.env.local', '.env.production', 'apps/api/.env'],
    ],
    [
      'a .slipwayignore sends exactly what it re-includes',
      { '.slipwayignore': '!.env\n' },
      ['.env', '.envrc', '.slipwayignore', 'apps', 'apps/api', 'apps/api/main.js', 'env.example', 'index.html'],
      ['.env.local', '.env.production', 'apps/api/.env'],
    ],
    [
      'a .slipwayignore can send them all',
      { '.slipwayignore': '!**/.env\n!**/.env.*\n' },
      [
        '.env',
        '.env.local',
        '.env.production',
        '.envrc',
        '.slipwayignore',
        'apps',
        'apps/api',
        'apps/api/.env',
        'apps/api/main.js',
        'env.example',
        'index.html',
      ],
      [],
    ],
    [
      'files the user excludes are not reported as left out by Slipway',
      { '.slipwayignore': '.env*\napps\n' },
      ['.slipwayignore', 'env.example', 'index.html'],
      [],
    ],
  ];
  for (const [name, extra, packed, secretFiles] of cases) {
    test(name, () => {
      const plan = planPack(tree({ ...files, ...extra }));
      expect(plan.entries.map((e) => e.path)).toEqual(packed);
      expect(plan.secretFiles).toEqual(secretFiles);
    });
  }

  test('nothing of a left-out file is in the archive', async () => {
    const entries = await unpack(packStream(planPack(tree(files))));
    expect(entries.map(([name]) => name)).not.toContain('.env');
    expect(JSON.stringify(entries)).not.toContain('sk_live_1');
  });
});

describe('the tar.gz stream', () => {
  test('holds the planned entries with their content', async () => {
    const root = tree({ 'index.html': '<h1>hi</h1>', 'css/site.css': 'body{}', '.git/HEAD': 'x' });
    symlinkSync('index.html', join(root, 'home.html'));
    expect(await unpack(packStream(planPack(root)))).toEqual([
      ['css/', 'directory', ''],
      ['css/site.css', 'file', 'body{}'],
      ['home.html', 'symlink', '-> index.html'],
      ['index.html', 'file', '<h1>hi</h1>'],
    ]);
  });

  test('is read from disk only as fast as it is consumed, never buffered whole', async () => {
    const root = tree({});
    // Random bytes do not compress: zeros would let gzip swallow the whole file into a few KiB.
    writeFileSync(join(root, 'big.bin'), randomBytes(32 * 1024 * 1024));
    let seen: PackProgress = { read: 0, sent: 0 };
    const reader = packStream(planPack(root), (p) => (seen = { ...p })).getReader();
    await reader.read();
    await Bun.sleep(200);
    // One chunk was pulled: only a few buffers' worth was read, not 32 MiB.
    expect(seen.read).toBeLessThan(8 * 1024 * 1024);
    let total = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) total += r.value.length;
    expect(seen.read).toBe(32 * 1024 * 1024);
    expect(seen.sent).toBeGreaterThan(total);
  });
});
