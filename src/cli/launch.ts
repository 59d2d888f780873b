/**
 * The command tree one invocation needs, built as cheaply as it can be. `slipway status` (or any
 * first argument naming a command) gets the root and that command's register function only;
 * `slipway --help`, no arguments or an unknown command get the root with one-line stand-ins for the
 * top-level commands, made from the index (command-index.ts), whose help, usage errors and
 * suggestions are the whole tree's; `slipway help …` and the rest get the whole tree (program.ts).
 */
import { type Command, Help } from 'commander';
import { GROUPS } from './command-groups.ts';
import { commandIndex, type CommandIndex } from './command-index.ts';
import type { Io } from './io.ts';
import { createRoot } from './root.ts';

/** Thrown when commander dispatches to a stand-in (arguments such as `-- status`): the whole tree runs instead. */
export class WholeTreeNeeded extends Error {}

/** The tree for `argv` (the user's arguments); may be the stand-ins' root, whose dispatch throws WholeTreeNeeded. */
export async function programFor(io: Io, argv: string[]): Promise<Command> {
  const first = argv[0];
  if (first !== 'help') {
    const index = await commandIndex();
    const entry = index.commands.find((e) => first !== undefined && (e.name === first || e.aliases.includes(first)));
    if (entry === undefined) return standIns(io, index);
    const load = entry.group === null ? undefined : GROUPS[entry.group];
    if (load) {
      const [register, { createCtx }] = await Promise.all([load(), import('./context.ts')]);
      const cli = createRoot(io);
      register(cli, createCtx(io));
      return cli;
    }
  }
  return wholeTree(io, first);
}

/** Every command (program.ts); `serve` as the first argument builds only that one. */
export async function wholeTree(io: Io, first?: string): Promise<Command> {
  return (await import('./program.ts')).buildProgram(io, first);
}

/**
 * The root with a stand-in for each top-level command: its name, aliases, term and description. At the
 * index's width its help is the index's text, which is what commander would format (test/cli/launch.test.ts).
 */
function standIns(io: Io, index: CommandIndex): Command {
  const terms = new Map<Command, string>();
  const { rootHelp } = index;
  const cli: Command = createRoot(io).configureHelp({
    subcommandTerm: (cmd) => terms.get(cmd) ?? cmd.name(),
    formatHelp(cmd, helper) {
      if (cmd === cli && helper.helpWidth === rootHelp.width) return rootHelp.text;
      return Help.prototype.formatHelp.call(helper, cmd, helper);
    },
  });
  cli.hook('preSubcommand', () => {
    throw new WholeTreeNeeded('A stand-in was dispatched to');
  });
  for (const entry of index.commands) {
    const cmd = cli.command(entry.name, { hidden: entry.hidden }).aliases(entry.aliases).description(entry.description);
    if (entry.helpGroup) cmd.helpGroup(entry.helpGroup);
    terms.set(cmd, entry.term);
  }
  return cli;
}
