import { describe, expect, test } from 'bun:test';
import { createLogger } from '../../src/log.ts';
import { DEFAULT_TRIM_POLICY, shouldTrim, startMemoryTrim, type TrimPolicy } from '../../src/ops/memory-trim.ts';

const MiB = 1024 * 1024;

describe('whether an idle check trims', () => {
  const policy = DEFAULT_TRIM_POLICY;
  const cases: [string, { cpuMicros: number; intervalMs: number; rssBytes: number }, boolean][] = [
    ['idle and grown by the threshold', { cpuMicros: 100_000, intervalMs: 30_000, rssBytes: 64 * MiB }, true],
    [
      'idle at the CPU limit (2 % of the interval)',
      { cpuMicros: 600_000, intervalMs: 30_000, rssBytes: 70 * MiB },
      true,
    ],
    ['busy: just over the CPU limit', { cpuMicros: 600_001, intervalMs: 30_000, rssBytes: 70 * MiB }, false],
    ['busy under load', { cpuMicros: 29_000_000, intervalMs: 30_000, rssBytes: 90 * MiB }, false],
    ['idle but grown less than the threshold', { cpuMicros: 0, intervalMs: 30_000, rssBytes: 64 * MiB - 1 }, false],
    ['idle and smaller than after the last trim', { cpuMicros: 0, intervalMs: 30_000, rssBytes: 50 * MiB }, false],
  ];
  for (const [name, sample, expected] of cases)
    test(`${expected ? 'trims' : 'does not trim'} when ${name}`, () => {
      expect(shouldTrim(policy, sample, 60 * MiB)).toBe(expected);
    });
});

describe('the trimmer', () => {
  /** Runs a trimmer with `policy` for `ms`, calling `during` meanwhile; returns the trims it logged. */
  async function trimsDuring(policy: TrimPolicy, ms: number, during: () => Promise<void> = () => Bun.sleep(ms)) {
    const lines: string[] = [];
    const stop = startMemoryTrim(
      createLogger('debug', (l) => lines.push(l)),
      policy,
    );
    await during();
    stop();
    return lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'memory trimmed');
  }

  test('trims once the start is done, then not again while nothing grows', async () => {
    const trims = await trimsDuring(
      { firstAfterMs: 20, checkEveryMs: 40, idleCpuShare: 1, growthBytes: 512 * MiB },
      300,
    );
    expect(trims).toHaveLength(1);
    expect(trims[0].rss_after_mib).toBeGreaterThan(0);
    expect(trims[0].rss_after_mib).toBeLessThanOrEqual(trims[0].rss_before_mib);
  });

  test('trims again after the process grew and went idle', async () => {
    const kept: Uint8Array[] = [];
    const trims = await trimsDuring(
      { firstAfterMs: 10, checkEveryMs: 60, idleCpuShare: 1, growthBytes: 8 * MiB },
      0,
      async () => {
        await Bun.sleep(150); // the first trim, then a check that takes the baseline
        for (let i = 0; i < 4; i++) kept.push(new Uint8Array(8 * MiB).fill(1)); // 32 MiB, written: resident
        await Bun.sleep(200);
      },
    );
    expect(kept).toHaveLength(4);
    expect(trims.length).toBeGreaterThanOrEqual(2);
  });

  test('does not trim again while the process is busy', async () => {
    const trims = await trimsDuring(
      { firstAfterMs: 10, checkEveryMs: 60, idleCpuShare: 0, growthBytes: 0 },
      0,
      async () => {
        await Bun.sleep(30);
        // Busy: the CPU limit is 0, so every check sees more than it allows.
        const until = performance.now() + 250;
        while (performance.now() < until) await Bun.sleep(0);
      },
    );
    expect(trims).toHaveLength(1);
  });

  test('stops before its first trim when stopped', async () => {
    const lines: string[] = [];
    const stop = startMemoryTrim(
      createLogger('debug', (l) => lines.push(l)),
      { ...DEFAULT_TRIM_POLICY, firstAfterMs: 50 },
    );
    stop();
    await Bun.sleep(120);
    expect(lines).toEqual([]);
  });
});
