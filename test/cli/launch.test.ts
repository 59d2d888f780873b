/**
 * The trees launch.ts builds instead of the whole one: a command on its own, and the stand-ins of
 * `slipway --help`. Each is compared with the whole tree (program.ts), which stays the reference.
 */
import { describe, expect, test } from 'bun:test';
import { CommanderError, type Command } from 'commander';
import { GROUPS } from '../../src/cli/command-groups.ts';
import { commandIndex } from '../../src/cli/command-index.ts';
import type { Io } from '../../src/cli/io.ts';
import { programFor, wholeTree } from '../../src/cli/launch.ts';
import { createRoot } from '../../src/cli/root.ts';
import { createCtx } from '../../src/cli/context.ts';
import { runCli } from './harness.ts';

const io = {} as Io;

/** Every command under `cmd` (itself included), keyed by its path of names. */
function byPath(cmd: Command, path: string[] = [], into = new Map<string, Command>()): Map<string, Command> {
  into.set(path.join(' '), cmd);
  for (const sub of cmd.commands) byPath(sub, [...path, sub.name()], into);
  return into;
}

/** The help `cmd` prints on a terminal `width` columns wide, with colours or without. */
function helpAt(cmd: Command, width: number, colours: boolean): string {
  cmd.configureOutput({ getOutHelpWidth: () => width, getOutHasColors: () => colours });
  return cmd.helpInformation();
}

/** Parses `argv` with `cli`, capturing what it writes; the exit code commander would give. */
async function parseCaptured(cli: Command, argv: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  cli.configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) });
  try {
    await cli.parseAsync(argv, { from: 'user' });
    return { out, err, code: 0 };
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    return { out, err, code: e.exitCode };
  }
}

describe('the command index', () => {
  test('finds a register function of its own for every top-level command but help', async () => {
    const index = (await commandIndex()).commands;
    expect(index.filter((e) => e.group === null).map((e) => e.name)).toEqual(['help']);
    expect(index.map((e) => e.name)).toEqual((await wholeTree(io)).commands.map((c) => c.name()));
  });

  test('builds each command on its own with the same options, subcommands and help as in the whole tree', async () => {
    const whole = byPath(await wholeTree(io));
    let compared = 0;
    for (const [key, load] of Object.entries(GROUPS)) {
      const root = createRoot(io);
      (await load())(root, createCtx(io));
      expect(root.commands.length).toBeGreaterThan(0);
      for (const [path, cmd] of byPath(root)) {
        if (path === '') continue;
        const reference = whole.get(path);
        if (!reference) throw new Error(`${key}: "${path}" is not in the whole tree`);
        expect(helpAt(cmd, 100, false)).toBe(helpAt(reference, 100, false));
        expect(cmd.options.map((o) => o.flags)).toEqual(reference.options.map((o) => o.flags));
        compared++;
      }
    }
    expect(compared).toBe(whole.size - 1 - 1); // all but the root and `help`
  });
});

describe('slipway --help from the stand-ins', () => {
  test('is the whole tree help at every terminal width, with colours and without', async () => {
    const standIns = await programFor(io, ['--help']);
    const whole = await wholeTree(io);
    expect(standIns.commands.length).toBe(whole.commands.length);
    for (const width of [20, 40, 79, 80, 100, 132, 250])
      for (const colours of [false, true]) expect(helpAt(standIns, width, colours)).toBe(helpAt(whole, width, colours));
  });

  test('answers no arguments, an unknown command and an unknown option as the whole tree does', async () => {
    for (const argv of [[], ['stat'], ['deploymnts'], ['--bogus'], ['-h'], ['-v'], ['--bogus', 'status']]) {
      const fast = await parseCaptured(await programFor(io, argv), argv);
      expect(fast).toEqual(await parseCaptured(await wholeTree(io), argv));
      expect(fast.out + fast.err).not.toBe('');
    }
  });

  test('runs the real command when commander dispatches past a stand-in', async () => {
    const env = { SLIPWAY_URL: 'http://127.0.0.1:9', SLIPWAY_TOKEN: 'slw_x' };
    const direct = await runCli(['status'], { env });
    const pastStandIn = await runCli(['--', 'status'], { env });
    expect(direct.code).toBe(3);
    expect(direct.stderr).toContain('Cannot reach the Slipway agent at http://127.0.0.1:9');
    expect(pastStandIn).toEqual(direct);
  });
});

describe('a command started by its first argument', () => {
  test('has only that command under the root', async () => {
    expect((await programFor(io, ['status'])).commands.map((c) => c.name())).toEqual(['status']);
    expect((await programFor(io, ['deploys', 'list'])).commands.map((c) => c.name())).toEqual([
      'deployments',
      'rollback',
    ]);
    expect((await programFor(io, ['help', 'status'])).commands.length).toBe((await wholeTree(io)).commands.length);
  });
});
