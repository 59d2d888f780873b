import { describe, expect, test } from 'bun:test';
import type { Command } from 'commander';
import type { Io } from '../../src/cli/io.ts';
import { projectNameFromDir } from '../../src/cli/context.ts';
import { localAgentUrl, normaliseUrl } from '../../src/cli/credentials.ts';
import { parseAssignments } from '../../src/cli/env.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { runCli } from './harness.ts';

describe('project names from directory names', () => {
  test('are lower-cased DNS labels', () => {
    expect(projectNameFromDir('/src/My_App.v2')).toBe('my-app-v2');
    expect(projectNameFromDir('/src/web')).toBe('web');
    expect(projectNameFromDir('/src/2048-game')).toBe('game');
    expect(projectNameFromDir(`/src/${'a'.repeat(70)}`)).toBe('a'.repeat(63));
    expect(projectNameFromDir('/src/site--')).toBe('site');
  });

  test('that cannot be made ask for --project', () => {
    expect(() => projectNameFromDir('/src/123')).toThrow(
      'Cannot make a project name from the directory "123": pass --project <name>',
    );
  });
});

describe('KEY=VALUE arguments', () => {
  test('keep everything after the first = as the value, empty values included', () => {
    expect(parseAssignments(['A=1', 'URL=postgres://u:p@h/db?x=y', 'EMPTY='])).toEqual({
      A: '1',
      URL: 'postgres://u:p@h/db?x=y',
      EMPTY: '',
    });
  });

  test('reject a missing =, a bad name and a repeated key', () => {
    expect(() => parseAssignments(['NOVALUE'])).toThrow('"NOVALUE" is not KEY=VALUE');
    expect(() => parseAssignments(['1A=x'])).toThrow(
      '"1A" is not a valid variable name: letters, digits and _, not starting with a digit',
    );
    expect(() => parseAssignments(['A=1', 'A=2'])).toThrow('A is given twice');
  });
});

describe('agent URLs', () => {
  test('are normalised to scheme://host[:port] without a trailing slash', () => {
    expect(normaliseUrl('http://127.0.0.1:7070/')).toBe('http://127.0.0.1:7070');
    expect(normaliseUrl('slipway.example.com')).toBe('http://slipway.example.com');
    expect(normaliseUrl('https://example.com/slipway/')).toBe('https://example.com/slipway');
    expect(() => normaliseUrl('ftp://example.com')).toThrow('"ftp://example.com" must be an http:// or https:// URL');
  });

  test('of the local agent follow SLIPWAY_API_LISTEN, a wildcard becoming loopback', () => {
    expect(localAgentUrl({})).toBe('http://127.0.0.1:7070');
    expect(localAgentUrl({ SLIPWAY_API_LISTEN: '0.0.0.0:9000' })).toBe('http://127.0.0.1:9000');
    expect(localAgentUrl({ SLIPWAY_API_LISTEN: ':9000' })).toBe('http://127.0.0.1:9000');
    expect(localAgentUrl({ SLIPWAY_API_LISTEN: '[::]:9000' })).toBe('http://[::1]:9000');
    expect(localAgentUrl({ SLIPWAY_API_LISTEN: '10.0.0.5:7070' })).toBe('http://10.0.0.5:7070');
  });
});

describe('usage errors exit with code 2', () => {
  const cases: [string[], string][] = [
    [['nope'], "error: unknown command 'nope'\n(Did you mean nodes?)\n(add --help for usage)\n"],
    [['projects', 'scale', 'web', '0'], 'slipway: <instances> must be a whole number from 1 to 20, not "0"\n'],
    [
      ['projects', 'create', 'Web'],
      'slipway: "Web" is not a valid project name: lower-case letters, digits and dashes, starting with a letter, at most 63 characters\n',
    ],
    [['projects', 'update', 'web'], 'slipway: Nothing to change: pass at least one setting, e.g. --port 3000\n'],
    [['env', 'set', '-p', 'web', 'oops'], 'slipway: "oops" is not KEY=VALUE\n'],
    [
      ['deployments', 'list', '-p', 'web', '--status', 'gone'],
      "error: option '--status <status>' argument 'gone' is invalid. Allowed choices are queued, building, deploying, live, failed, canceled, replaced.\n(add --help for usage)\n",
    ],
    [['deploy', '/nonexistent/dir'], 'slipway: "/nonexistent/dir" is not a directory\n'],
    [
      ['tokens', 'create', '--name', 'x', '--scope', 'root'],
      'slipway: --scope must be one of read, deploy, admin, not "root"\n',
    ],
    [['help', 'deployments', 'nope'], 'slipway: No command "deployments nope"\n  Run `slipway help` for the list\n'],
    [
      ['install', '--base-domain', 'not a domain'],
      'slipway: Invalid configuration:\n  - SLIPWAY_BASE_DOMAIN="not a domain": expected a DNS name such as localhost or apps.example.com\n',
    ],
  ];
  for (const [args, stderr] of cases) {
    test(`slipway ${args.join(' ')}`, async () => {
      const r = await runCli(args);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 2, stdout: '', stderr });
    });
  }

  test('no command at all prints the help on stderr', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith('Usage: slipway [options] [command]\n');
  });
});

describe('help', () => {
  test('the top-level help lists the exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      [
        'Exit codes:',
        '  0    success',
        '  1    the operation failed (the API refused it, or a deployment did not go live)',
        '  2    usage error: unknown command, bad arguments or options',
        '  3    cannot reach the agent, or not authorised (no token, or one it refused)',
        '  130  interrupted (Ctrl-C)',
      ].join('\n'),
    );
    expect((await runCli(['help'])).stdout).toBe(r.stdout);
  });

  test('slipway help <command…> prints the same as <command…> --help', async () => {
    const viaHelp = await runCli(['help', 'deployments', 'logs']);
    const viaFlag = await runCli(['deployments', 'logs', '--help']);
    expect(viaHelp).toEqual({ ...viaFlag, asked: [] });
    expect(viaHelp.stdout).toStartWith('Usage: slipway deployments logs [options] <deployment>\n');
  });

  test('every command and subcommand has --help', async () => {
    const paths: string[][] = [];
    const walk = (cmd: Command, path: string[]) => {
      for (const sub of cmd.commands) {
        paths.push([...path, sub.name()]);
        walk(sub, [...path, sub.name()]);
      }
    };
    // Building the tree touches no Io; only running a command does.
    walk(buildProgram({} as Io), []);
    expect(paths.length).toBeGreaterThan(35);
    for (const path of paths) {
      const r = await runCli([...path, '--help']);
      expect({
        path,
        code: r.code,
        usage: r.stdout.split('\n')[0]!.startsWith(`Usage: slipway ${path.join(' ')}`),
      }).toEqual({ path, code: 0, usage: true });
    }
  });
});
