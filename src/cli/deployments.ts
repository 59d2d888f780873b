/** `slipway deployments …`: history, one deployment and its build log (actions are in deployment-actions.ts). */
import { Option, type Command } from 'commander';
import { seg } from './client.ts';
import { findDeployment, intOption, projectOf, withProject, type Ctx } from './context.ts';
import { registerDeploymentActions } from './deployment-actions.ts';
import { registerDeploymentDiff } from './deployment-diff.ts';
import { followDeployment, requireLive } from './follow.ts';
import { colorsFor, out, type Io } from './io.ts';
import { ago, cell, formatBytes, formatDuration, keyValues, printJson, printTable, state } from './output.ts';
import type { Deployment } from './api-types.ts';

const STATUSES = ['queued', 'building', 'deploying', 'live', 'failed', 'canceled', 'replaced'];

/** Registers the `deployments` group, its actions and `rollback`. */
export function registerDeployments(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  const deployments = cli
    .command('deployments')
    .alias('deploys')
    .description("A project's deployments: history, logs, cancel, retry");

  withProject(deployments.command('list').alias('ls').description('Deployment history, newest first'))
    .addOption(new Option('--status <status>', 'only deployments in this status').choices(STATUSES))
    .addOption(new Option('-n, --limit <n>', 'how many').default(20).argParser(intOption('--limit', 1, 1000)))
    .option('--json', 'print JSON')
    .action(async (opts: { project?: string; status?: string; limit: number; json?: boolean }) => {
      const project = projectOf(ctx, opts);
      const list = await ctx
        .client()
        .list<Deployment>(`/v1/projects/${seg(project)}/deployments`, { status: opts.status }, opts.limit);
      if (opts.json) return printJson(io, list);
      printTable(
        io,
        colorsFor(io),
        ['#', 'id', 'status', 'trigger', 'stack', 'created', 'took', 'reason'],
        list.map((d) => deploymentRow(d, io)),
        `No deployments of ${project} yet`,
      );
    });

  withProject(
    deployments.command('show').description('Show one deployment').argument('<deployment>', 'its id (dep_…) or number'),
  )
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: { project?: string; json?: boolean }) => {
      const dep = await findDeployment(ctx, projectOf(ctx, opts), ref);
      if (opts.json) return printJson(io, dep);
      out(io, showDeployment(dep, io));
    });

  withProject(
    deployments
      .command('logs')
      .description('The build and deploy log of a deployment')
      .argument('<deployment>', 'its id or number'),
  )
    .option('-f, --follow', 'stream it until the deployment ends; exit non-zero if it fails')
    .option('--json', 'print the lines as JSON (an array; with --follow one {"seq","line"} object per line)')
    .action(async (ref: string, opts: { project?: string; follow?: boolean; json?: boolean }) => {
      const project = projectOf(ctx, opts);
      const dep = await findDeployment(ctx, project, ref);
      if (!opts.follow) {
        const res = await ctx.client().request('GET', `/v1/projects/${seg(project)}/deployments/${seg(dep.id)}/logs`);
        const text = await res.text();
        if (opts.json) return printJson(io, text === '' ? [] : text.replace(/\n$/, '').split('\n'));
        io.stdout.write(text);
        return;
      }
      const end = await followDeployment(ctx, project, dep, opts.json);
      requireLive(end, dep, project);
    });

  registerDeploymentActions(cli, deployments, ctx);
  registerDeploymentDiff(deployments, ctx);
}

/** One row of the history table. */
export function deploymentRow(d: Deployment, io: Io): string[] {
  const took =
    d.started_at && d.finished_at ? formatDuration(Date.parse(d.finished_at) - Date.parse(d.started_at)) : '-';
  return [
    String(d.number),
    d.id,
    state(d.status, colorsFor(io)),
    d.trigger,
    cell(d.stack),
    ago(d.created_at, io.now()),
    took,
    cell(d.failure_reason),
  ];
}

/** The `deployments show` block. */
export function showDeployment(d: Deployment, io: Io): string {
  const c = colorsFor(io);
  const pairs: [string, string][] = [
    ['deployment', `#${d.number} of ${d.project}`],
    ['id', d.id],
    ['status', state(d.status, c)],
    ['trigger', d.trigger + (d.retry_of ? ` of ${d.retry_of}` : '') + (d.rollback_of ? ` to ${d.rollback_of}` : '')],
    [
      'source',
      d.source
        ? `${d.source.format}, ${formatBytes(d.source.bytes)}, sha256 ${d.source.sha256.slice(0, 12)}${d.source.kept ? '' : ' (pruned)'}`
        : '-',
    ],
    ['stack', cell(d.stack)],
    ['image', cell(d.image?.tag) + (d.image_ref ? ` (from ${d.image_ref})` : '')],
    ['build', d.build_duration_ms === null ? '-' : formatDuration(d.build_duration_ms)],
    ['created', d.created_at],
    ['finished', cell(d.finished_at)],
  ];
  if (d.failure_reason) pairs.push(['reason', c.red(d.failure_reason)]);
  return keyValues(pairs, c);
}
