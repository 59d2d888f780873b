/** `slipway env …`: a project's environment variables (secrets): list, set KEY=VALUE…, unset KEY…. */
import type { Command } from 'commander';
import { seg } from './client.ts';
import { projectOf, withProject, type Ctx } from './context.ts';
import { queued } from './follow.ts';
import { UsageError } from './errors.ts';
import { colorsFor, note, out } from './io.ts';
import { ago, printJson, printTable } from './output.ts';
import type { Deployment, EnvVar } from './api-types.ts';

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses `KEY=VALUE` arguments (the value may be empty or contain `=`); a bad one is a usage error. */
export function parseAssignments(args: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`"${arg}" is not KEY=VALUE`);
    const key = checkKey(arg.slice(0, eq));
    if (key in vars) throw new UsageError(`${key} is given twice`);
    vars[key] = arg.slice(eq + 1);
  }
  return vars;
}

function checkKey(key: string): string {
  if (!KEY.test(key))
    throw new UsageError(`"${key}" is not a valid variable name: letters, digits and _, not starting with a digit`);
  return key;
}

interface ChangeOptions {
  project?: string;
  restart: boolean;
  follow?: boolean;
}

/** Registers the `env` group. */
export function registerEnv(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  const env = cli.command('env').description("A project's environment variables, encrypted at rest by the agent");

  withProject(env.command('list').alias('ls').description('List the variables (values masked unless --reveal)'))
    .option('--reveal', 'show the values (needs an admin token)')
    .option('--json', 'print JSON')
    .action(async (opts: { project?: string; reveal?: boolean; json?: boolean }) => {
      const project = projectOf(ctx, opts);
      const { data } = await ctx
        .client()
        .get<{ data: EnvVar[] }>(`/v1/projects/${seg(project)}/env`, { reveal: opts.reveal ? true : undefined });
      if (opts.json) return printJson(io, data);
      const rows = data.map((v) => [v.key, v.value, v.managed_by ?? '-', ago(v.updated_at, io.now())]);
      printTable(io, colorsFor(io), ['key', 'value', 'managed by', 'updated'], rows, `No variables set on ${project}`);
    });

  const change = (cmd: Command) =>
    withProject(cmd)
      .option('--no-restart', 'store only; the next deployment or restart applies them')
      .option('-f, --follow', 'stream the rollout; exit 0 only when it is live');

  change(
    env.command('set').description('Set variables and roll them out without downtime').argument('<KEY=VALUE...>'),
  ).action(async (args: string[], opts: ChangeOptions) => {
    const vars = parseAssignments(args);
    await patch(ctx, projectOf(ctx, opts), vars, opts, `Set ${Object.keys(vars).join(', ')}`);
  });

  change(env.command('unset').description('Remove variables and roll out without them').argument('<KEY...>')).action(
    async (keys: string[], opts: ChangeOptions) => {
      const vars = Object.fromEntries(keys.map((k) => [checkKey(k), null]));
      await patch(ctx, projectOf(ctx, opts), vars, opts, `Unset ${Object.keys(vars).join(', ')}`);
    },
  );
}

async function patch(
  ctx: Ctx,
  project: string,
  vars: Record<string, string | null>,
  opts: ChangeOptions,
  done: string,
): Promise<void> {
  const res = await ctx
    .client()
    .json<{ data: EnvVar[]; deployment: Deployment | null }>('PATCH', `/v1/projects/${seg(project)}/env`, {
      body: { vars },
      query: { restart: opts.restart ? undefined : false },
    });
  out(ctx.io, `${done} on ${project}`);
  if (res.deployment)
    return queued(ctx, project, res.deployment, { what: 'env', follow: opts.follow, idOnStdout: false });
  note(
    ctx.io,
    opts.restart
      ? 'Nothing is live yet: the next deployment gets them'
      : 'Stored: the next deployment or restart applies them',
  );
}
