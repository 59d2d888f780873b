/** The `serve` command's definition: its setting flags; serve.ts, loaded when it runs, does the rest. */
import type { Command } from 'commander';
import type { Io } from './io.ts';
import { addSettingOptions, settingFlags } from './settings-options.ts';

/** Registers `serve`. */
export function addServe(cli: Command, io: Io): Command {
  addSettingOptions(
    cli
      .command('serve')
      .description('Run the agent: the REST API, the deploy worker and the edge (--role splits them)'),
  ).action(async (opts) => (await import('./serve.ts')).serve(io.env, settingFlags(opts)));
  return cli;
}
