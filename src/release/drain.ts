import type { EdgeRepo } from '../db/edge.ts';

/** How often the route tables are re-read while waiting on the edge. */
const POLL_MS = 50;

/**
 * Waits, through the database the edge reports to, until the edge has applied route version
 * `version` and none of `targets` has requests in flight any more, or `timeoutMs` passed.
 * Works the same whether the edge runs in this process or in its own.
 */
export async function waitDrained(
  edge: EdgeRepo,
  version: number,
  targets: string[],
  timeoutMs: number,
): Promise<'drained' | 'timeout'> {
  if (targets.length === 0) return 'drained';
  const deadline = Date.now() + timeoutMs;
  const watched = new Set(targets);
  while (Date.now() < deadline) {
    if (edge.appliedVersion() >= version && !edge.draining().some((d) => watched.has(d.target) && d.inflight > 0)) {
      return 'drained';
    }
    await Bun.sleep(POLL_MS);
  }
  return 'timeout';
}

/** Waits until the edge has applied at least `version` (so new traffic follows the new table). */
export async function waitApplied(edge: EdgeRepo, version: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (edge.appliedVersion() < version) {
    if (Date.now() >= deadline) return false;
    await Bun.sleep(POLL_MS);
  }
  return true;
}
