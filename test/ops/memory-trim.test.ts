import { describe, expect, test } from 'bun:test';
import { createLogger } from '../../src/log.ts';
import {
  DEFAULT_TRIM_POLICY,
  decide,
  startMemoryTrim,
  type TrimPolicy,
  type TrimSample,
  type TrimState,
} from '../../src/ops/memory-trim.ts';

const MiB = 1024 * 1024;

describe('what an idle check does', () => {
  const policy = DEFAULT_TRIM_POLICY;
  const idle = { cpuMicros: 100_000, intervalMs: 30_000 };
  const known = { baselineBytes: 60 * MiB, busy: false };
  const cases: [string, TrimSample, TrimState, ReturnType<typeof decide>][] = [
    ['notes load over 2 % of a core', { cpuMicros: 600_001, intervalMs: 30_000, rssBytes: 90 * MiB }, known, 'busy'],
    [
      'notes load right after a trim',
      { cpuMicros: 29_000_000, intervalMs: 30_000, rssBytes: 90 * MiB },
      { baselineBytes: null, busy: false },
      'busy',
    ],
    [
      'takes the baseline at the first idle check after a trim',
      { ...idle, rssBytes: 57 * MiB },
      { baselineBytes: null, busy: false },
      'baseline',
    ],
    [
      'trims when load came between the trim and the first idle check',
      { ...idle, rssBytes: 67 * MiB },
      { baselineBytes: null, busy: true },
      'trim',
    ],
    ['trims once grown by the threshold since the baseline', { ...idle, rssBytes: 64 * MiB }, known, 'trim'],
    [
      'trims at the CPU limit itself (2 % of the interval)',
      { cpuMicros: 600_000, intervalMs: 30_000, rssBytes: 70 * MiB },
      known,
      'trim',
    ],
    ['waits while grown less than the threshold', { ...idle, rssBytes: 64 * MiB - 1 }, known, 'wait'],
    ['waits while smaller than the baseline', { ...idle, rssBytes: 50 * MiB }, known, 'wait'],
  ];
  for (const [name, sample, state, expected] of cases)
    test(name, () => {
      expect(decide(policy, sample, state)).toBe(expected);
    });
});

describe('the trimmer', () => {
  /**
   * Runs a trimmer with `policy` for `ms`, calling `during` meanwhile; returns the trims it logged.
   * The process's CPU time is what `cpu` says: the test runner's own threads (collector, compiler)
   * are not the test's load, and would make a check see the process busy at random.
   */
  async function trimsDuring(
    policy: TrimPolicy,
    ms: number,
    during: () => Promise<void> = () => Bun.sleep(ms),
    cpu: () => number = () => 0,
  ) {
    const lines: string[] = [];
    const stop = startMemoryTrim(
      createLogger('debug', (l) => lines.push(l)),
      policy,
      cpu,
    );
    await during();
    stop();
    return lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'memory trimmed');
  }

  test('trims once the start is done, then not again while nothing grows', async () => {
    const trims = await trimsDuring(
      { firstAfterMs: 20, checkEveryMs: 60, idleCpuShare: 1, growthBytes: 512 * MiB },
      400,
    );
    expect(trims).toHaveLength(1);
    expect(trims[0].rss_before_mib).toBeGreaterThan(0);
    expect(trims[0].rss_after_mib).toBeGreaterThan(0);
  });

  test('trims again after the process grew and went idle', async () => {
    const kept: Uint8Array[] = [];
    const trims = await trimsDuring(
      { firstAfterMs: 10, checkEveryMs: 60, idleCpuShare: 1, growthBytes: 8 * MiB },
      0,
      async () => {
        await Bun.sleep(250); // the first trim, then a check that takes the baseline
        for (let i = 0; i < 4; i++) kept.push(new Uint8Array(8 * MiB).fill(1)); // 32 MiB, written: resident
        await Bun.sleep(300);
      },
    );
    expect(kept).toHaveLength(4);
    expect(trims.length).toBeGreaterThanOrEqual(2);
  });

  /** A CPU clock that runs a whole second per reading while `busy()` says so, and stands still otherwise. */
  function cpuWhile(busy: () => boolean): () => number {
    let used = 0;
    return () => (busy() ? (used += 1_000_000) : used);
  }

  test('does not trim again while the process is busy', async () => {
    const trims = await trimsDuring(
      { firstAfterMs: 10, checkEveryMs: 60, idleCpuShare: 0.5, growthBytes: 0 },
      300,
      undefined,
      cpuWhile(() => true),
    );
    expect(trims).toHaveLength(1);
  });

  test('trims again at the first idle check after load', async () => {
    let busy = true;
    const policy = { firstAfterMs: 10, checkEveryMs: 60, idleCpuShare: 0.5, growthBytes: 512 * MiB };
    const trims = await trimsDuring(
      policy,
      0,
      async () => {
        await Bun.sleep(250); // the first trim, then busy checks
        busy = false;
        await Bun.sleep(250);
      },
      cpuWhile(() => busy),
    );
    expect(trims).toHaveLength(2);
  });

  test('without a trim for the start, takes the baseline at its first idle check and trims only after growth', async () => {
    const lines: string[] = [];
    const trims = () => lines.filter((l) => JSON.parse(l).msg === 'memory trimmed').length;
    const stop = startMemoryTrim(
      createLogger('debug', (l) => lines.push(l)),
      { firstAfterMs: null, checkEveryMs: 60, idleCpuShare: 1, growthBytes: 8 * MiB },
      () => 0,
    );
    const kept: Uint8Array[] = [];
    try {
      await Bun.sleep(200); // idle checks: the first takes the baseline, nothing grew since
      expect(trims()).toBe(0);
      for (let i = 0; i < 4; i++) kept.push(new Uint8Array(8 * MiB).fill(1)); // 32 MiB, written: resident
      await Bun.sleep(300);
    } finally {
      stop();
    }
    expect(kept).toHaveLength(4);
    expect(trims()).toBeGreaterThanOrEqual(1);
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
