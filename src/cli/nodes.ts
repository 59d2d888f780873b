/** `slipway nodes`: the machines the apps run on (one engine, or a Swarm's nodes) and Slipway's tasks on them. */
import type { Command } from 'commander';
import type { Ctx } from './context.ts';
import { colorsFor } from './io.ts';
import { cell, formatBytes, printJson, printTable, state } from './output.ts';
import type { NodeView } from '../nodes/view.ts';

/** Registers the `nodes` command. */
export function registerNodes(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  cli
    .command('nodes')
    .description("List the nodes the apps run on, their state and resources, and Slipway's tasks on each")
    .option('--json', 'print JSON, with every task of every node')
    .addHelpText(
      'after',
      '\nOn one Docker engine the list is that engine, of role "standalone". A project-limited token sees\n' +
        "every node but only its projects' tasks. The tasks column counts them by project.",
    )
    .action(async (opts: { json?: boolean }) => {
      const list = await ctx.client().list<NodeView>('/v1/nodes', {}, 1000);
      if (opts.json) return printJson(io, list);
      const c = colorsFor(io);
      const rows = list.map((n) => [
        n.id.slice(0, 12),
        n.hostname,
        n.leader ? 'manager (leader)' : n.role,
        n.availability,
        state(n.state, c),
        cell(n.address),
        n.engine_version,
        String(n.resources.cpus),
        formatBytes(n.resources.memory_bytes),
        taskSummary(n),
      ]);
      printTable(
        io,
        c,
        ['id', 'hostname', 'role', 'availability', 'state', 'address', 'engine', 'cpus', 'memory', 'tasks'],
        rows,
        'No nodes',
      );
    });
}

/** "web 2, api 1 (1 starting)": tasks per project, and how many are not running. */
export function taskSummary(node: NodeView): string {
  if (node.tasks.length === 0) return '-';
  const perProject = new Map<string, number>();
  for (const t of node.tasks) perProject.set(t.project, (perProject.get(t.project) ?? 0) + 1);
  const counts = [...perProject].map(([project, n]) => `${project} ${n}`).join(', ');
  const notRunning = node.tasks.filter((t) => t.state !== 'running');
  if (notRunning.length === 0) return counts;
  const states = new Map<string, number>();
  for (const t of notRunning) states.set(t.state, (states.get(t.state) ?? 0) + 1);
  return `${counts} (${[...states].map(([s, n]) => `${n} ${s}`).join(', ')})`;
}
