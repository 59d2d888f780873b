/** `slipway exec -p web -- cmd args…`: a command or a shell in a live instance, like `docker exec -it`. */
import type { Command } from 'commander';
import { projectOf, withProject, type Ctx } from './context.ts';
import { ExitCode } from './errors.ts';

interface ExecOptions {
  project?: string;
  instance?: string;
  tty?: boolean;
}

/** Registers `exec`. */
export function registerExec(cli: Command, ctx: Ctx): void {
  withProject(
    cli
      .command('exec')
      .description('Run a command (default: a shell) in a live instance; admin tokens only')
      .argument('[command...]', 'the command and its arguments, after -- (default: /bin/sh)')
      .option('-i, --instance <instance>', 'the instance, as in `slipway logs` (default: the first running one)')
      .option('-t, --tty', 'allocate a terminal even when stdin or stdout is not one')
      .option('-T, --no-tty', 'no terminal, even on one: stdin is piped, stdout and stderr stay apart')
      .addHelpText(
        'after',
        '\nExamples:\n  slipway exec -p web -- sh\n  slipway exec -p web -- ls -l /app\n  echo "select 1" | slipway exec -p web -- psql "$DATABASE_URL"\n\nThe exit code is the command\'s own.',
      ),
  ).action(async (command: string[], opts: ExecOptions) => {
    const { execSession } = await import('./exec-session.ts');
    const code = await execSession(ctx, projectOf(ctx, opts), command, opts);
    if (code !== 0) throw new ExitCode(code);
  });
}
