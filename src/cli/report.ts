/** How a command's failure reaches the user: one line on stderr and the exit code its kind calls for (see errors.ts). */
import { ConfigError } from '../config.ts';
import { AppError } from '../errors.ts';
import { CliError, EXIT } from './errors.ts';
import { colorsFor, type Io } from './io.ts';

/** Prints why a command failed and returns its exit code. */
export function reportFailure(err: unknown, io: Io): number {
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
