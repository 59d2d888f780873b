/**
 * Reading the upload's manifests (package.json, Procfile) for planning. Every value taken from
 * them that ends up in a generated Dockerfile passes through `checkValue`, because a line break
 * in a Dockerfile starts a new instruction.
 *
 * Start commands written as shell command lines (an npm `start` script, a Procfile `web:` line)
 * run under `sh -c` as npm or Heroku would run them, prefixed with `exec` when that is safe, so
 * the app replaces the shell as PID 1 and receives `docker stop`'s SIGTERM itself (a shell as
 * PID 1 ignores it, making every stop take the full grace period).
 */
import { BuildError } from '../deployments/failures.ts';

/** What planning sees of an upload: every file and symlink path, and the captured manifests. */
export interface SourceFiles {
  paths: string[];
  captured: Map<string, Buffer>;
}

/** The parts of a package.json that decide how a Node or Bun app is installed and started. */
export interface PackageInfo {
  start: string | null;
  main: string | null;
  hasDependencies: boolean;
}

/** The text of a captured root file, null when the upload does not have it. */
export function capturedText(source: SourceFiles, path: string, present: ReadonlySet<string>): string | null {
  if (!present.has(path)) return null;
  const content = source.captured.get(path);
  // The normaliser captures regular files up to its size cap; a symlink or a huge file is not read.
  if (content === undefined) throw new BuildError(`Cannot read ${path}: it is a symlink or too large to inspect`);
  return content.toString('utf8').replace(/^\uFEFF/, '');
}

/** Parses package.json and checks the fields Slipway uses. */
export function readPackageJson(text: string): PackageInfo {
  let pkg: unknown;
  try {
    pkg = JSON.parse(text);
  } catch (err) {
    throw new BuildError(`package.json is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof pkg !== 'object' || pkg === null || Array.isArray(pkg)) {
    throw new BuildError('package.json must hold a JSON object');
  }
  const { scripts, main, dependencies } = pkg as Record<string, unknown>;
  const start = isRecord(scripts) ? scripts.start : undefined;
  if (start !== undefined && typeof start !== 'string')
    throw new BuildError('package.json "scripts.start" must be a string');
  if (main !== undefined && typeof main !== 'string') throw new BuildError('package.json "main" must be a string');
  return {
    start: start?.trim() ? checkValue('package.json "scripts.start"', start.trim()) : null,
    main: main?.trim() ? checkValue('package.json "main"', main.trim()) : null,
    hasDependencies: isRecord(dependencies) && Object.keys(dependencies).length > 0,
  };
}

/** The command of the Procfile's `web:` process, or null when it has none. */
export function procfileWeb(text: string): string | null {
  for (const line of text.split(/\r?\n/)) {
    const m = /^web[ \t]*:(.*)$/s.exec(line);
    if (m) return m[1]!.trim() ? checkValue('Procfile "web" command', m[1]!.trim()) : null;
  }
  return null;
}

/** Returns `value` unless it holds a line break or another control character (tabs aside). */
export function checkValue(what: string, value: string): string {
  if (/[\u0000-\u0008\u000a-\u001f\u007f\u2028\u2029]/.test(value)) {
    throw new BuildError(`${what} contains a line break or control character, which cannot go into a Dockerfile`);
  }
  return value;
}

/** The first of `candidates` that the upload has at its root. */
export function firstPresent(present: ReadonlySet<string>, candidates: string[]): string | null {
  return candidates.find((c) => present.has(c)) ?? null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// `exec` applies to one simple command; with operators it would drop everything after the first
// command (`exec a && b` never runs b), so such lines run as written.
const COMPOUND = /[;&|()`{}]|\n/;

// A leading `NAME=value` word: `exec NAME=value app` fails, `NAME=value exec app` works.
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=(?:[^\s'"\\]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")*(?=\s)/;

// Builtins and keywords cannot be exec'ed (`exec cd dist` fails), so lines starting with them run as written.
const NOT_EXECUTABLE = new Set([
  '.',
  '!',
  ':',
  'case',
  'cd',
  'eval',
  'exec',
  'exit',
  'export',
  'for',
  'if',
  'read',
  'return',
  'set',
  'shift',
  'source',
  'trap',
  'ulimit',
  'umask',
  'unset',
  'until',
  'wait',
  'while',
]);

/** The exec-form CMD running `line` through `sh -c`, with `exec` inserted when the line is one simple command. */
export function shellCmd(line: string): string[] {
  return ['sh', '-c', withExec(line)];
}

/** `line` with `exec` before its command word when that keeps its meaning, else `line` unchanged. */
export function withExec(line: string): string {
  if (COMPOUND.test(line)) return line;
  const assignments: string[] = [];
  let rest = line.trim();
  for (let m = ASSIGNMENT.exec(rest); m !== null; m = ASSIGNMENT.exec(rest)) {
    assignments.push(m[0]);
    rest = rest.slice(m[0].length).trimStart();
  }
  const command = rest.split(/\s/, 1)[0] ?? '';
  if (command === '' || command.includes('=') || NOT_EXECUTABLE.has(command)) return line;
  return [...assignments, 'exec', rest].join(' ');
}
