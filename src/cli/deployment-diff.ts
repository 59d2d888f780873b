/** `slipway deployments diff <from> <to>`: what differs between two deployments (files, env keys, settings, image). */
import type { Command } from 'commander';
import { seg } from './client.ts';
import { projectOf, withProject, type Ctx } from './context.ts';
import { colorsFor, out, type Io } from './io.ts';
import { printJson } from './output.ts';
import type { Comparison } from './api-types.ts';

/** Adds `diff` to the `deployments` group. */
export function registerDeploymentDiff(deployments: Command, ctx: Ctx): void {
  const { io } = ctx;
  withProject(
    deployments
      .command('diff')
      .description('Compare two deployments: source files, env keys (names only), settings and image')
      .argument('<from>', 'a deployment id or number, e.g. 12')
      .argument('<to>', 'a deployment id or number, e.g. 14'),
  )
    .option('--json', 'print JSON')
    .action(async (from: string, to: string, opts: { project?: string; json?: boolean }) => {
      const project = projectOf(ctx, opts);
      const diff = await ctx.client().get<Comparison>(`/v1/projects/${seg(project)}/deployments/compare`, {
        from: from.replace(/^#/, ''),
        to: to.replace(/^#/, ''),
      });
      if (opts.json) return printJson(io, diff);
      out(io, formatComparison(diff, project, io));
    });
}

/** The human-readable comparison. */
export function formatComparison(d: Comparison, project: string, io: Io): string {
  const c = colorsFor(io);
  const lines = [`Deployment #${d.from.number} → #${d.to.number} of ${project}`];
  const list = (sign: string, paint: (s: string) => string, names: string[]) =>
    names.map((n) => `  ${paint(`${sign} ${n}`)}`);
  if (d.source.available) {
    const s = d.source;
    lines.push(
      `source: ${s.added.length} added, ${s.removed.length} removed, ${s.changed.length} changed, ${s.unchanged} unchanged`,
      ...list('+', c.green, s.added),
      ...list('-', c.red, s.removed),
      ...list('~', c.yellow, s.changed),
    );
  } else lines.push(`source: not compared (${d.source.reason})`);
  if (d.env.available) {
    const e = d.env;
    const none = e.added.length + e.removed.length + e.changed.length === 0;
    lines.push(
      `env (names only): ${none ? 'no change' : `${e.added.length} added, ${e.removed.length} removed, ${e.changed.length} changed`}`,
      ...list('+', c.green, e.added),
      ...list('-', c.red, e.removed),
      ...list('~', c.yellow, e.changed),
    );
  } else lines.push(`env: not compared (${d.env.reason})`);
  if (d.settings.available) {
    lines.push(`settings: ${d.settings.changed.length === 0 ? 'no change' : ''}`.trimEnd());
    for (const s of d.settings.changed) lines.push(`  ${s.name}: ${JSON.stringify(s.from)} → ${JSON.stringify(s.to)}`);
  } else lines.push(`settings: not compared (${d.settings.reason})`);
  const image = (i: Comparison['image']['from']) =>
    [i.ref ?? i.tag ?? '-', i.digest ?? i.id?.slice(0, 19)].filter(Boolean).join(' ');
  lines.push(
    `image: ${d.image.changed ? 'changed' : 'same'}`,
    `  from ${image(d.image.from)}`,
    `  to   ${image(d.image.to)}`,
  );
  return lines.join('\n');
}
