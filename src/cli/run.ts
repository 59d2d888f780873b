/** Runs one CLI invocation and turns every way it can end into an exit code (see errors.ts). */
import { CommanderError } from 'commander';
import { EXIT } from './errors.ts';
import type { Io } from './io.ts';
import { programFor, WholeTreeNeeded, wholeTree } from './launch.ts';
import { reportFailure } from './report.ts';

/** Parses `argv` (the user's arguments, without the executable) and runs the command; resolves the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  try {
    try {
      await (await programFor(io, argv)).parseAsync(argv, { from: 'user' });
    } catch (err) {
      if (!(err instanceof WholeTreeNeeded)) throw err;
      await (await wholeTree(io)).parseAsync(argv, { from: 'user' });
    }
    return EXIT.ok;
  } catch (err) {
    return report(err, io);
  }
}

function report(err: unknown, io: Io): number {
  // Commander has already printed its message (and help) on stderr.
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  return reportFailure(err, io);
}
