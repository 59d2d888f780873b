import { describe, expect, test } from 'bun:test';
import { resolve } from 'node:path';
import { releasableMappings } from '../../src/ops/executable-pages.ts';

/** One mapping of an smaps listing, with the two fields the selection reads. */
function mapping(range: string, perms: string, path: string, rssKiB: number, anonymousKiB: number): string {
  return [
    `${range} ${perms} 00000000 08:01 1234 ${path}`.trimEnd(),
    'Size:               1024 kB',
    `Rss:                ${rssKiB} kB`,
    'Pss:                  12 kB',
    `Anonymous:          ${anonymousKiB} kB`,
    'VmFlags: rd ex mr mw me',
  ].join('\n');
}

describe('the mappings a trim releases', () => {
  test('are the private read-only file mappings that hold no copied pages', () => {
    const smaps = [
      mapping('00200000-00400000', 'r--p', '/usr/local/bin/slipway', 400, 0),
      mapping('00400000-00800000', 'r-xp', '/usr/local/bin/slipway', 2048, 0),
      // The loader's relocated pages, write-protected after: releasing them would lose the relocations.
      mapping('00800000-00810000', 'r--p', '/usr/local/bin/slipway', 64, 64),
      mapping('00810000-00900000', 'rw-p', '/usr/local/bin/slipway', 512, 100),
      mapping('00900000-00a00000', 'rw-p', '/usr/local/bin/slipway', 512, 0),
      mapping('7f0000000000-7f0000100000', 'r--s', '/dev/shm/shared', 1024, 0),
      mapping('7f0000100000-7f0000200000', 'rw-p', '', 1024, 1024),
      mapping('7f0000200000-7f0000300000', 'r--p', '', 64, 64),
      mapping('7f0000300000-7f0000301000', 'r-xp', '[vdso]', 4, 0),
      mapping('7f0000400000-7f0000500000', 'r-xp', '/usr/lib/x86_64-linux-gnu/libc.so.6', 900, 0),
      mapping('7f0000500000-7f0000600000', 'r--p', '/usr/lib/x86_64-linux-gnu/libm.so.6', 0, 0),
    ].join('\n');
    expect(releasableMappings(smaps)).toEqual([
      { start: 0x200000n, length: 0x200000n, path: '/usr/local/bin/slipway', rssKiB: 400 },
      { start: 0x400000n, length: 0x400000n, path: '/usr/local/bin/slipway', rssKiB: 2048 },
      {
        start: 0x7f0000400000n,
        length: 0x100000n,
        path: '/usr/lib/x86_64-linux-gnu/libc.so.6',
        rssKiB: 900,
      },
    ]);
  });

  test('exclude a mapping whose listing has no Anonymous field', () => {
    const smaps = '00400000-00800000 r-xp 00000000 08:01 1 /bin/x\nRss:                2048 kB\n';
    expect(releasableMappings(smaps)).toEqual([]);
  });
});

describe('releasing the executable pages of a running process', () => {
  test('unmaps resident code while the process keeps working', () => {
    // In a process of its own: the test runner's pages are left alone.
    const script = `
      const { releaseExecutablePages } = await import(${JSON.stringify(resolve(import.meta.dir, '../../src/ops/executable-pages.ts'))});
      const fileKiB = () => Number(/RssFile:\\s+(\\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]);
      const work = () => [JSON.stringify({ a: [1, 2, 3] }), new Bun.CryptoHasher('sha256').update('slipway').digest('hex'), [3, 1, 2].sort().join()];
      const expected = work();
      const before = fileKiB();
      const released = releaseExecutablePages();
      const after = fileKiB();
      console.log(JSON.stringify({ before, after, released, same: JSON.stringify(work()) === JSON.stringify(expected) }));`;
    const run = Bun.spawnSync([process.execPath, '-e', script], { stderr: 'pipe' });
    expect(run.stderr.toString()).toBe('');
    const { before, after, released, same } = JSON.parse(run.stdout.toString());
    expect(same).toBe(true);
    // Bun's own code alone is tens of megabytes; what the few lines above map back is far less.
    expect(released).toBeGreaterThan(8 * 1024);
    expect(after).toBeLessThan(before - 8 * 1024);
  });
});
