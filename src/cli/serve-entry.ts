/**
 * How `slipway serve …` starts: without commander when every argument after `serve` is a plain
 * `--flag value` (or `--flag=value`) of a known setting, given once, which is how systemd and the
 * scripts start it. Commander's module is compiled when it loads, not read as bytecode, and that
 * costs an idle agent or edge about 4 MiB of resident code for good (measured on the compiled
 * binary); anything else (help, an unknown option, a value that looks like an option) goes to
 * the whole CLI (run.ts), which parses and reports it as it always did. The
 * terminal's streams and colours (io.ts, picocolors) load the same way: only to report a failure.
 */
import { SETTINGS } from '../config.ts';

/** Runs `slipway serve …` (`argv` starts with "serve"); resolves the exit code. */
export async function runServe(argv: string[]): Promise<number> {
  const flags = plainSettingFlags(argv.slice(1));
  const terminal = async () => (await import('./io.ts')).processIo(process.env);
  if (!flags) return (await import('./run.ts')).run(argv, await terminal());
  try {
    await (await import('./serve.ts')).serve(process.env, flags);
    return 0;
  } catch (err) {
    return (await import('./report.ts')).reportFailure(err, await terminal());
  }
}

/** The settings `args` give, by flag name; null unless each is a known setting's `--flag value` or `--flag=value`, given once. */
export function plainSettingFlags(args: readonly string[]): Record<string, string> | null {
  // A loop rather than flatMap: one call per setting made JavaScriptCore compile the callback and
  // Array's flattening at every start (about 0.3 MiB of an idle edge's RSS).
  const known = new Set<string>();
  for (const s of SETTINGS) if (s.flag) known.add(s.flag);
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) return null;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
    if (!known.has(name) || name in flags || value === undefined || (eq === -1 && value.startsWith('-'))) return null;
    flags[name] = value;
  }
  return flags;
}
