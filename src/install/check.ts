/** The doctor's vocabulary: a check's outcome, what the checks work from and what the probes found. */
import type Docker from 'dockerode';
import type { Config } from '../config.ts';
import type { SwarmState } from '../runtime/describe.ts';

/** The outcome of one check; a failing or warning one says how to fix it. */
export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix: string | null;
}

/** What the doctor works from; tests pass their own. */
export interface DoctorInput {
  config: Config;
  /** True when the systemd units are installed: fixes then name them. */
  installed: boolean;
  listening: Set<number>;
  docker: Docker;
  now: () => number;
}

/** What the probes of Docker, the agent's API and its edge found. */
export interface Probes {
  docker: { version: string; time: number; rootDir: string | null; swarm?: SwarmState } | { error: string };
  api: { version: string; status: string; dockerError: string | null; date: number | null } | { error: string };
  edge: { slipway: boolean; status: number } | { error: string };
}

/** A check that passed. */
export const ok = (name: string, detail: string): Check => ({ name, status: 'ok', detail, fix: null });

/** A check that passed with a caveat. */
export const warn = (name: string, detail: string, fix: string): Check => ({ name, status: 'warn', detail, fix });

/** A check that failed, and how to fix it. */
export const fail = (name: string, detail: string, fix: string): Check => ({ name, status: 'fail', detail, fix });
