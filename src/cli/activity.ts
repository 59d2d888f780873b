/** `slipway activity`: the agent's append-only audit log, newest first. */
import { Option, type Command } from 'commander';
import { checkProjectName, intOption, type Ctx } from './context.ts';
import { colorsFor } from './io.ts';
import { ago, cell, printJson, printTable } from './output.ts';
import type { Activity } from './api-types.ts';

interface ActivityOptions {
  project?: string;
  action?: string;
  token?: string;
  limit: number;
  json?: boolean;
}

/** Registers `activity`. */
export function registerActivity(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  cli
    .command('activity')
    .description('The audit log: who changed what, newest first')
    .option('-p, --project <name>', 'only this project (default: all)')
    .option('--action <action>', 'an action such as project.create, or a prefix such as deployment')
    .option('--token <id>', 'only what this token did (tok_…)')
    .addOption(new Option('-n, --limit <n>', 'how many').default(20).argParser(intOption('--limit', 1, 1000)))
    .option('--json', 'print JSON')
    .action(async (opts: ActivityOptions) => {
      const query = {
        project: opts.project === undefined ? undefined : checkProjectName(opts.project),
        action: opts.action,
        token_id: opts.token,
      };
      const list = await ctx.client().list<Activity>('/v1/activity', query, opts.limit);
      if (opts.json) return printJson(io, list);
      const rows = list.map((a) => [
        ago(a.created_at, io.now()),
        a.action,
        a.target,
        cell(a.token.name),
        cell(a.request_id),
      ]);
      printTable(io, colorsFor(io), ['when', 'action', 'target', 'by', 'request'], rows, 'No activity');
    });
}
