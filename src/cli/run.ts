/** Runs one CLI invocation and turns every way it can end into an exit code (see errors.ts). */
import { CommanderError } from 'commander';
import { ConfigError } from '../config.ts';
import { AppError } from '../errors.ts';
import { CliError, EXIT } from './errors.ts';
import { colorsFor, type Io } from './io.ts';
import { buildProgram } from './program.ts';

/** Parses `argv` (the user's arguments, without the executable) and runs the command; resolves the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  try {
    await buildProgram(io, argv[0]).parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    return report(err, io);
  }
}

function report(err: unknown, io: Io): number {
  // Commander has already printed its message (and help) on stderr.
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  const c = colorsFor(io, 'stderr');
  const print = (message: string, details: string[] = []) => {
    io.stderr.write(`${c.red('slipway:')} ${message}\n`);
    for (const d of details) io.stderr.write(`  ${c.dim(d)}\n`);
  };
  if (err instanceof CliError) {
    if (err.message) print(err.message, err.details);
    return err.exitCode;
  }
  if (err instanceof ConfigError) {
    print(err.message);
    return EXIT.usage;
  }
  if (err instanceof AppError) {
    print(err.message);
    return EXIT.failed;
  }
  print(err instanceof Error ? err.message : String(err));
  return EXIT.failed;
}
