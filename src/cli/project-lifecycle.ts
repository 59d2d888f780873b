/** `slipway projects rm`, `stop`, `start`, `restart` and `scale`: the lifecycle of a project. */
import type { Command } from 'commander';
import { seg } from './client.ts';
import { checkProjectName, intOption, type Ctx } from './context.ts';
import { confirmByName, out } from './io.ts';
import type { Project } from './api-types.ts';

/** Adds the lifecycle subcommands to the `projects` group. */
export function registerProjectLifecycle(projects: Command, ctx: Ctx): void {
  const { io } = ctx;
  projects
    .command('rm')
    .alias('delete')
    .description('Delete a project, its deployments and its containers')
    .argument('<name>')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (name: string, opts: { yes?: boolean }) => {
      checkProjectName(name);
      if (!opts.yes) await confirmByName(io, name, `Delete project "${name}", its deployments and its containers`);
      await ctx.client().request('DELETE', `/v1/projects/${seg(name)}`, { query: { confirm: name } });
      out(io, `Deleted project ${name}`);
    });

  const lifecycle = [
    ['stop', 'Stop the live release (the edge answers 503 until start)', 'Stopped'],
    ['start', 'Start the live release again', 'Started'],
    ['restart', 'Restart every instance without downtime', 'Restarted'],
  ] as const;
  for (const [verb, description, done] of lifecycle) {
    projects
      .command(verb)
      .description(description)
      .argument('<name>')
      .action(async (name: string) => {
        await ctx.client().request('POST', `/v1/projects/${seg(checkProjectName(name))}/${verb}`);
        out(io, `${done} ${name}`);
      });
  }

  projects
    .command('scale')
    .description('Set the number of instances (a health-gated rollout)')
    .argument('<name>')
    .argument('<instances>', '1 to 20', intOption('<instances>', 1, 20))
    .action(async (name: string, instances: number) => {
      await ctx
        .client()
        .json<Project>('POST', `/v1/projects/${seg(checkProjectName(name))}/scale`, { body: { instances } });
      out(io, `Scaled ${name} to ${instances} instance${instances === 1 ? '' : 's'}`);
    });
}
