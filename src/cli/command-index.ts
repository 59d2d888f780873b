/**
 * The top-level commands as the root's help lists them, the register function (command-groups.ts)
 * that adds each, and the root's help as an 80-column terminal or a pipe gets it. Computed from the
 * whole tree (program.ts), so it cannot disagree with it; the executable carries it precomputed
 * (scripts/build.ts replaces this module with its result), so `slipway --help` builds 32 one-line
 * commands instead of the whole tree, and at that width prints the text instead of formatting it.
 */
import type { Command } from 'commander';
import type { Io } from './io.ts';

/** One top-level command. */
export interface CommandEntry {
  name: string;
  aliases: string[];
  hidden: boolean;
  /** Its heading in the root's help ('' for the default). */
  helpGroup: string;
  /** Its term and description in the root's help, as commander's Help makes them from the whole tree. */
  term: string;
  description: string;
  /** The key in GROUPS of the register function that adds it; null when only the whole tree has it. */
  group: string | null;
}

/** The index: the top-level commands, and the text commander's Help formats for the root at one width. */
export interface CommandIndex {
  commands: CommandEntry[];
  rootHelp: { width: number; text: string };
}

/** The width of the precomputed root help: commander's when the output is not a terminal. */
const ROOT_HELP_WIDTH = 80;

let cached: Promise<CommandIndex> | undefined;

/** The index; from source it is computed once per process. */
export function commandIndex(): Promise<CommandIndex> {
  cached ??= computeIndex();
  return cached;
}

/** Builds each group on its own and then the whole tree, and lists the whole tree's top-level commands. */
export async function computeIndex(): Promise<CommandIndex> {
  const [{ buildProgram }, { GROUPS }, { createRoot }, { createCtx }] = await Promise.all([
    import('./program.ts'),
    import('./command-groups.ts'),
    import('./root.ts'),
    import('./context.ts'),
  ]);
  // Registering reads nothing of the Io: it is only captured for when a command runs.
  const io = {} as Io;
  const groupOf = new Map<string, string>();
  for (const [key, load] of Object.entries(GROUPS)) {
    const root = createRoot(io);
    (await load())(root, createCtx(io));
    for (const cmd of root.commands) groupOf.set(cmd.name(), key);
  }
  const whole = buildProgram(io);
  const help = whole.createHelp();
  help.prepareContext({ helpWidth: ROOT_HELP_WIDTH });
  const visible = new Set<Command>(help.visibleCommands(whole));
  const commands = whole.commands.map((cmd) => ({
    name: cmd.name(),
    aliases: cmd.aliases(),
    hidden: !visible.has(cmd),
    helpGroup: cmd.helpGroup(),
    term: help.subcommandTerm(cmd),
    description: help.subcommandDescription(cmd),
    group: groupOf.get(cmd.name()) ?? null,
  }));
  return { commands, rootHelp: { width: ROOT_HELP_WIDTH, text: help.formatHelp(whole, help) } };
}

/** The text of the module that replaces this one in the executable: the index, computed now. */
export async function precomputedIndexModule(): Promise<string> {
  return `export const commandIndex = () => Promise.resolve(${JSON.stringify(await computeIndex())});\n`;
}
