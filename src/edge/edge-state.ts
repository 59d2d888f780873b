/**
 * The edge's report to the API, `<data-dir>/edge-state/state.json`: the route version it applied,
 * the old targets that still have requests in flight, and its request counters. The edge writes it
 * whole to a temporary file and renames that over the old one, so the API (which only reads it,
 * and once installed may only read it) sees one report or the next, never half of one.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StoreHead } from './route-store.ts';
import type { EdgeStatsSnapshot } from './stats.ts';

/** A target that left the route table and still has exchanges open. */
export interface Draining {
  target: string;
  inflight: number;
}

/** One report of the edge. */
export interface EdgeState {
  /** The route store and version the edge serves; null until it has found a store. */
  applied: StoreHead | null;
  draining: Draining[];
  stats: EdgeStatsSnapshot;
  /** When the edge wrote it (ISO 8601). */
  at: string;
}

/** The report's mode: the group (the API's, once installed) may read it, only the edge write it. */
const FILE_MODE = 0o640;

/** Makes the function that replaces the report at `file`, creating its directory when missing. */
export function edgeStateWriter(file: string): (state: EdgeState) => void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  return (state) => {
    writeFileSync(tmp, JSON.stringify(state));
    // The units' UMask=0077 would leave the API without read access.
    chmodSync(tmp, FILE_MODE);
    renameSync(tmp, file);
  };
}

/**
 * The edge's latest report, or null when there is none (no edge has run yet) or it cannot be
 * parsed. Any other failure to read it, such as a permission the install should have given,
 * is thrown.
 */
export function readEdgeState(file: string): EdgeState | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const state = JSON.parse(text) as EdgeState;
    return Array.isArray(state?.draining) && typeof state.stats === 'object' ? state : null;
  } catch {
    return null;
  }
}
