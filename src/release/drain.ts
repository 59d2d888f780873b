import type { EdgeProgress } from './edge-routes.ts';

/** How often the edge's state is re-read while waiting on it. */
const POLL_MS = 50;
/**
 * While waiting for the edge to apply a change, its state is read this often for the first
 * QUICK_FOR_MS (the edge applies within about one of its polls), then every POLL_MS.
 */
const QUICK_POLL_MS = 5;
const QUICK_FOR_MS = 300;

/** Where the edge's progress is read from. */
export interface EdgeWatch {
  progress(): EdgeProgress;
}

/**
 * Waits, through the state file the edge reports to, until the edge has applied route version
 * `version` and none of `targets` has requests in flight any more, or `timeoutMs` passed.
 * Works the same whether the edge runs in this process or in its own.
 */
export async function waitDrained(
  edge: EdgeWatch,
  version: number,
  targets: string[],
  timeoutMs: number,
): Promise<'drained' | 'timeout'> {
  if (targets.length === 0) return 'drained';
  const deadline = Date.now() + timeoutMs;
  const watched = new Set(targets);
  while (Date.now() < deadline) {
    const p = edge.progress();
    if (p.appliedVersion >= version && !p.draining.some((d) => watched.has(d.target) && d.inflight > 0)) {
      return 'drained';
    }
    await Bun.sleep(POLL_MS);
  }
  return 'timeout';
}

/** Waits until the edge has applied at least `version` (so new traffic follows the new table). */
export async function waitApplied(edge: EdgeWatch, version: number, timeoutMs: number): Promise<boolean> {
  const started = Date.now();
  while (edge.progress().appliedVersion < version) {
    if (Date.now() >= started + timeoutMs) return false;
    await Bun.sleep(Date.now() - started < QUICK_FOR_MS ? QUICK_POLL_MS : POLL_MS);
  }
  return true;
}
