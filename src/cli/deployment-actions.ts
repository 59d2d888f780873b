/** `slipway deployments cancel` and `retry`, and `slipway rollback`. */
import type { Command } from 'commander';
import { seg } from './client.ts';
import { findDeployment, projectOf, withProject, type Ctx } from './context.ts';
import { queued } from './follow.ts';
import { note, out } from './io.ts';
import type { Deployment, Rollback } from './api-types.ts';

/** Adds cancel and retry to the `deployments` group, and `rollback` to the top level. */
export function registerDeploymentActions(cli: Command, deployments: Command, ctx: Ctx): void {
  const { io } = ctx;
  withProject(
    deployments
      .command('cancel')
      .description('Cancel a queued or running deployment')
      .argument('<deployment>', 'its id or number'),
  ).action(async (ref: string, opts: { project?: string }) => {
    const project = projectOf(ctx, opts);
    const dep = await findDeployment(ctx, project, ref);
    const after = await ctx
      .client()
      .json<Deployment>('POST', `/v1/projects/${seg(project)}/deployments/${seg(dep.id)}/cancel`);
    out(
      io,
      after.status === 'canceled'
        ? `Canceled deployment #${after.number}`
        : `Canceling deployment #${after.number} (${after.status})`,
    );
  });

  withProject(
    deployments
      .command('retry')
      .description('Rebuild a deployment from its stored source')
      .argument('<deployment>', 'its id or number'),
  )
    .option('-f, --follow', 'stream the log; exit 0 only if the new deployment goes live')
    .action(async (ref: string, opts: { project?: string; follow?: boolean }) => {
      const project = projectOf(ctx, opts);
      const dep = await findDeployment(ctx, project, ref);
      const created = await ctx
        .client()
        .json<Deployment>('POST', `/v1/projects/${seg(project)}/deployments/${seg(dep.id)}/retry`);
      await queued(ctx, project, created, { what: `retry of #${dep.number}`, follow: opts.follow });
    });

  withProject(cli.command('rollback').description('Make an earlier release live again: same image and env, no rebuild'))
    .argument('[deployment]', 'the release to go back to (default: the one live before the current one)')
    .option('-f, --follow', 'stream the log; exit 0 only if the rollback goes live')
    .action(async (ref: string | undefined, opts: { project?: string; follow?: boolean }) => {
      const project = projectOf(ctx, opts);
      const target = ref === undefined ? undefined : await findDeployment(ctx, project, ref);
      const created = await ctx.client().json<Rollback>('POST', `/v1/projects/${seg(project)}/rollback`, {
        body: target ? { deployment_id: target.id } : {},
      });
      for (const warning of created.warnings ?? []) note(io, `Warning: ${warning}`);
      await queued(ctx, project, created, {
        what: target ? `rollback to #${target.number}` : 'rollback',
        follow: opts.follow,
      });
    });
}
