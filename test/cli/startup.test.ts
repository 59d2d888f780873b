/**
 * What a CLI start evaluates. `slipway --help` or `slipway status` must feel instant, so building
 * the command tree loads no server code: not the Docker client, the HTTP framework, the ACME client,
 * SQLite's native addon or the MCP SDK. Those load on first use, in the commands that need them.
 */
import { describe, expect, test } from 'bun:test';
import { resolve } from 'node:path';
import { importClosure, staticImports } from '../helpers/imports.ts';

const PROGRAM = resolve(import.meta.dir, '../../src/cli/program.ts');

describe('a CLI start', () => {
  test('builds the command tree without loading Docker, Elysia, the ACME client, SQLite, the MCP SDK, the agent, the packer or prompts', () => {
    const script = `
      const { buildProgram } = await import(${JSON.stringify(PROGRAM)});
      const { processIo } = await import(${JSON.stringify(resolve(import.meta.dir, '../../src/cli/io.ts'))});
      buildProgram(processIo(process.env));
      console.log(JSON.stringify(Object.keys(require.cache)));`;
    const run = Bun.spawnSync([process.execPath, '-e', script], { stderr: 'pipe' });
    expect(run.stderr.toString()).toBe('');
    const loaded = JSON.parse(run.stdout.toString()) as string[];
    expect(loaded.some((m) => m.endsWith('/src/cli/program.ts'))).toBe(true);
    const heavy = loaded.filter((m) =>
      /node_modules\/(dockerode|ssh2|elysia|acme-client|axios|better-sqlite3|tar-stream|read|cli-progress|@modelcontextprotocol|zod)\/|\/src\/(deps|app)\.ts$|\/src\/cli\/(serve|pack|progress)|\/src\/install\/doctor\.ts$/.test(
        m,
      ),
    );
    expect(heavy).toEqual([]);
  });
});

describe('a CLI start from the executable', () => {
  const LAUNCH = resolve(import.meta.dir, '../../src/cli/launch.ts');
  const IO = resolve(import.meta.dir, '../../src/cli/io.ts');

  /** The src/cli modules loaded by building the tree for `argv`, with the index precomputed as the build does. */
  async function cliModulesFor(argv: string[]): Promise<string[]> {
    const { precomputedIndexModule } = await import('../../src/cli/command-index.ts');
    const script = `
      Bun.plugin({ name: 'index', setup(b) {
        b.onLoad({ filter: /src\\/cli\\/command-index\\.ts$/ }, () => ({ contents: process.env.INDEX_MODULE, loader: 'js' }));
      } });
      const { programFor } = await import(${JSON.stringify(LAUNCH)});
      const { processIo } = await import(${JSON.stringify(IO)});
      await programFor(processIo(process.env), ${JSON.stringify(argv)});
      console.log(JSON.stringify(Object.keys(require.cache)));`;
    const run = Bun.spawnSync([process.execPath, '-e', script], {
      env: { ...process.env, INDEX_MODULE: await precomputedIndexModule() },
      stderr: 'pipe',
    });
    expect(run.stderr.toString()).toBe('');
    const loaded = JSON.parse(run.stdout.toString()) as string[];
    return loaded.flatMap((m) => /\/src\/cli\/([^/]+)\.ts$/.exec(m)?.[1] ?? []).sort();
  }

  test('loads no command for --help, from the precomputed index', async () => {
    expect(await cliModulesFor(['--help'])).toEqual([
      'command-groups',
      'command-index',
      'errors',
      'io',
      'launch',
      'root',
    ]);
  });

  test('loads the command it runs and what that command imports, not the others', async () => {
    const loaded = await cliModulesFor(['status']);
    expect(loaded).toContain('status');
    expect(loaded).not.toContain('program');
    expect(loaded.filter((m) => ['deploy', 'projects', 'tokens', 'webhooks', 'install', 'backup'].includes(m))).toEqual(
      [],
    );
  });
});

describe('a serve start', () => {
  const MAIN = resolve(import.meta.dir, '../../src/main.ts');

  test('builds only the serve command, whose help still lists its options', async () => {
    const { buildProgram } = await import(PROGRAM);
    const { processIo } = await import('../../src/cli/io.ts');
    expect(buildProgram(processIo(process.env), 'serve').commands.map((c: { name(): string }) => c.name())).toEqual([
      'serve',
    ]);
    const help = Bun.spawnSync([process.execPath, MAIN, 'serve', '--help'], { stderr: 'pipe' });
    expect(help.exitCode).toBe(0);
    expect(help.stdout.toString()).toContain('--data-dir');
    expect(help.stdout.toString()).toContain('--role');
  });

  test('still refuses an unknown option with a usage error', () => {
    const run = Bun.spawnSync([process.execPath, MAIN, 'serve', '--no-such-option'], { stderr: 'pipe' });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.toString()).toContain("unknown option '--no-such-option'");
  });
});

describe('the agent start', () => {
  test('loads the libraries it only needs for uploads, builds, backups and custom domains on their first use', () => {
    const modules = ['../../src/cli/serve-api.ts', '../../src/deps.ts', '../../src/app.ts'];
    const script = `
      for (const m of ${JSON.stringify(modules.map((m) => resolve(import.meta.dir, m)))}) await import(m);
      console.log(JSON.stringify(Object.keys(require.cache)));`;
    const run = Bun.spawnSync([process.execPath, '-e', script], { stderr: 'pipe' });
    expect(run.stderr.toString()).toBe('');
    const loaded = JSON.parse(run.stdout.toString()) as string[];
    expect(loaded.some((m) => m.endsWith('/src/deps.ts'))).toBe(true);
    expect(loaded.filter((m) => /node_modules\/(tldts|tldts-core|tar-stream|yauzl|dockerfile-ast)\//.test(m))).toEqual(
      [],
    );
  });

  test('imports neither dockerode nor node:http, node:https, node:tls or node:zlib at the top of its modules', () => {
    // Each stays resident for the idle agent's whole life (README, "Idle memory"): dockerode is made
    // by the first engine call that is not one of the idle passes' reads (src/runtime/engine-reads.ts),
    // the others by a webhook, a self-check, a certificate order or an archive (src/lazy-libraries.ts).
    const agent = new Set([...importClosure('cli/serve-api.ts'), ...importClosure('app.ts')]);
    const imported = staticImports(agent);
    expect(imported.has('node:fs')).toBe(true); // the scan does see the agent's imports
    expect(imported.has('elysia')).toBe(true);
    expect(
      [...imported].filter((m) => ['dockerode', 'node:http', 'node:https', 'node:tls', 'node:zlib'].includes(m)),
    ).toEqual([]);
  });
});
