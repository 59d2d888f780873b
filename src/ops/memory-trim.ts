/**
 * Gives memory back when the process is idle: once its start is done, and again after an idle
 * spell that follows growth (a burst of requests, a deploy). A trim is a full garbage collection,
 * then JavaScriptCore's footprint shrink (it drops compiled code and returns the heap's free pages
 * to the system; a forced collection alone frees the objects but keeps their pages). Each costs some
 * 10–50 ms of CPU and the first requests after it compile their code again, so it runs only when
 * the process has been nearly idle for a whole check interval.
 *
 * The executable's own pages (Bun's code, the embedded bytecode) are left mapped: unmapping them
 * lowers the RSS figure, but they stay in the page cache and count against the service's memory
 * all the same, so it would give nothing back.
 */
import type { Logger } from '../log.ts';

/** When the trimmer looks, and what counts as idle and as growth. */
export interface TrimPolicy {
  /**
   * After the start is done, before the first trim: the background loops' first passes end
   * meanwhile. Null: no trim for the start, only after growth (the first idle check takes the baseline).
   */
  firstAfterMs: number | null;
  /** How often the trimmer checks whether the process is idle. */
  checkEveryMs: number;
  /** The share of one core the process may have used over a check interval and still be idle. */
  idleCpuShare: number;
  /** How much the resident set must have grown since the last trim to trim again. */
  growthBytes: number;
}

/** The agent's policy. */
export const DEFAULT_TRIM_POLICY: TrimPolicy = {
  firstAfterMs: 1000,
  checkEveryMs: 30_000,
  idleCpuShare: 0.02,
  growthBytes: 4 * 1024 * 1024,
};

/**
 * An edge of its own: the same, without the trim after its start. That start allocates little, and
 * a trim then cost an idle edge more resident memory (the collector's and recompiled code's pages,
 * about 0.8 MiB measured on the compiled binary) than it gave back. After traffic it trims as the agent does.
 */
export const EDGE_TRIM_POLICY: TrimPolicy = { ...DEFAULT_TRIM_POLICY, firstAfterMs: null };

/** What one check saw: CPU time used over the interval and the resident set now. */
export interface TrimSample {
  cpuMicros: number;
  intervalMs: number;
  rssBytes: number;
}

/**
 * What the trimmer knows since its last trim: the resident set of its first idle check after it
 * (the trim's effect plus what the idle process mapped back), and whether any check since saw it busy.
 */
export interface TrimState {
  baselineBytes: number | null;
  busy: boolean;
}

/**
 * What a check does: `busy` notes load; after a trim, the first idle check takes the `baseline`,
 * unless the process was busy meanwhile (then it trims: that load's memory is not the idle
 * level); later idle checks `trim` once the process has grown by `growthBytes` since the baseline.
 */
export function decide(
  policy: TrimPolicy,
  sample: TrimSample,
  state: TrimState,
): 'busy' | 'baseline' | 'trim' | 'wait' {
  if (sample.cpuMicros / 1000 > sample.intervalMs * policy.idleCpuShare) return 'busy';
  if (state.baselineBytes === null) return state.busy ? 'trim' : 'baseline';
  return sample.rssBytes - state.baselineBytes >= policy.growthBytes ? 'trim' : 'wait';
}

/** Trims now. */
export function trimMemory(log?: Logger): void {
  const before = process.memoryUsage.rss();
  const started = performance.now();
  Bun.gc(true);
  // Asks JavaScriptCore to shrink at its next idle moment (right after this turn of the event loop).
  Bun.shrink();
  const after = process.memoryUsage.rss();
  log?.debug('memory trimmed', {
    rss_before_mib: Math.round(before / 104857.6) / 10,
    rss_after_mib: Math.round(after / 104857.6) / 10,
    ms: Math.round(performance.now() - started),
  });
}

/**
 * Starts trimming by `policy`; returns what stops it. The timers never keep the process alive.
 * `cpuMicros` reads the CPU time the process has used (a test may make the process look idle).
 */
export function startMemoryTrim(
  log: Logger,
  policy: TrimPolicy = DEFAULT_TRIM_POLICY,
  cpuMicros: () => number = processCpuMicros,
): () => void {
  const state: TrimState = { baselineBytes: null, busy: false };
  let lastCpu = cpuMicros();
  let lastAt = performance.now();
  const trim = () => {
    trimMemory(log);
    state.baselineBytes = null;
    state.busy = false;
    // The trim's own CPU is not load: the next check measures from here.
    [lastCpu, lastAt] = [cpuMicros(), performance.now()];
  };
  const check = () => {
    const [cpu, at] = [cpuMicros(), performance.now()];
    const sample = { cpuMicros: cpu - lastCpu, intervalMs: at - lastAt, rssBytes: process.memoryUsage.rss() };
    [lastCpu, lastAt] = [cpu, at];
    const next = decide(policy, sample, state);
    if (next === 'busy') state.busy = true;
    else if (next === 'baseline') state.baselineBytes = sample.rssBytes;
    else if (next === 'trim') trim();
  };
  const first = policy.firstAfterMs === null ? undefined : setTimeout(trim, policy.firstAfterMs);
  const interval = setInterval(check, policy.checkEveryMs);
  first?.unref();
  interval.unref();
  return () => {
    clearTimeout(first);
    clearInterval(interval);
  };
}

function processCpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
