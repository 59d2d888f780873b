/**
 * What a command may touch of the outside world: the environment main.ts hands in, the three
 * standard streams, the clock, Ctrl-C and terminal prompts. Tests pass their own.
 */
import pc from 'picocolors';
import type { Colors } from 'picocolors/types';
import type { Readable, Writable } from 'node:stream';
import { FailedError, InterruptedError, UsageError } from './errors.ts';

/** The environment variables, as handed in by main.ts (nothing in the CLI reads process.env). */
export type Env = Record<string, string | undefined>;

/** An output stream that may be a terminal. */
export type OutStream = Writable & { isTTY?: boolean; columns?: number };

/** The world of one CLI invocation. */
export interface Io {
  env: Env;
  cwd: string;
  stdout: OutStream;
  stderr: OutStream;
  stdin: Readable & { isTTY?: boolean };
  /** The running executable (the compiled slipway, or bun when run from source). */
  execPath: string;
  now(): number;
  /** Calls `handler` on each Ctrl-C (SIGINT) until the returned function is called. */
  onInterrupt(handler: () => void): () => void;
  /** Calls `handler` when the terminal is resized (SIGWINCH) until the returned function is called. */
  onResize?(handler: () => void): () => void;
  /** Asks `question` on the terminal; `silent` hides what is typed. Rejects on Ctrl-C. */
  ask(question: string, opts?: { silent?: boolean }): Promise<string>;
}

/** The Io of the real process; `env` is process.env, passed in by main.ts. */
export function processIo(env: Env): Io {
  return {
    env,
    cwd: process.cwd(),
    // Getters: Bun builds each stream on first access, and an agent or edge that never writes
    // through them (its logs go through console) should not hold them (stdin's alone is a reader).
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    get stdin() {
      return process.stdin;
    },
    execPath: process.execPath,
    now: () => Date.now(),
    onInterrupt(handler) {
      process.on('SIGINT', handler);
      return () => void process.off('SIGINT', handler);
    },
    onResize(handler) {
      process.on('SIGWINCH', handler);
      return () => void process.off('SIGWINCH', handler);
    },
    async ask(question, opts = {}) {
      // Loaded by the first question: node:readline under it is not needed by any other start.
      const { read } = await import('read');
      try {
        return await read({
          prompt: question,
          silent: opts.silent,
          replace: opts.silent ? '*' : undefined,
          input: process.stdin,
          output: process.stderr,
        });
      } catch {
        process.stderr.write('\n');
        throw new InterruptedError('Interrupted');
      } finally {
        // read() leaves stdin flowing; let the process exit once the command is done.
        process.stdin.pause();
      }
    },
  };
}

/** Writes one line on stdout. */
export function out(io: Io, line: string): void {
  io.stdout.write(`${line}\n`);
}

/** Writes one line on stderr: progress, notes and hints that scripts do not parse. */
export function note(io: Io, line: string): void {
  io.stderr.write(`${line}\n`);
}

/** Colours for `stream`: on only when it is a terminal and NO_COLOR is unset (FORCE_COLOR forces them). */
export function colorsFor(io: Io, stream: 'stdout' | 'stderr' = 'stdout'): Colors {
  const forced = io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0';
  const enabled = forced || (io[stream].isTTY === true && !io.env.NO_COLOR && io.env.TERM !== 'dumb');
  return pc.createColors(enabled);
}

/** True when a person can answer prompts: stdin and stderr are terminals. */
export function interactive(io: Io): boolean {
  return io.stdin.isTTY === true && io.stderr.isTTY === true;
}

/** Asks a yes/no question (default no); never asks when not interactive, returning `fallback`. */
export async function confirm(io: Io, question: string, fallback = false): Promise<boolean> {
  if (!interactive(io)) return fallback;
  const answer = (await io.ask(`${question} [y/N] `)).trim().toLowerCase();
  return answer === 'y' || answer === 'yes';
}

/** Asks for `name` to be typed back before something irreversible; refuses when nobody can answer. */
export async function confirmByName(io: Io, name: string, what: string): Promise<void> {
  if (!interactive(io)) throw new UsageError(`${what}? Refusing without --yes when not on a terminal`);
  const answer = await io.ask(`${what}? This cannot be undone. Type "${name}" to confirm: `);
  if (answer.trim() !== name) throw new FailedError('Not confirmed: nothing was deleted');
}
