#!/usr/bin/env bun
/**
 * Builds the one self-contained executable, `dist/slipway` (`bun run build`).
 *
 * Everything the binary needs travels inside it: the bundled code, the SQL migrations and the
 * API reference's script (imported as text), and better-sqlite3's linux-x64 `.node` addon, which
 * `better-sqlite3/linux-x64` requires by a static path so the bundler embeds it.
 * `cpu-features` is an optional native dependency of ssh2 (via dockerode) that ssh2 loads inside a
 * try/catch; it stays external so the bundle neither needs nor embeds it.
 *
 * Exits non-zero with the build log when the build fails.
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { BunPlugin } from 'bun';
import { buildClient } from '../src/console/assets.ts';
import { precomputedIndexModule } from '../src/cli/command-index.ts';
import { lazyRequires } from './lazy-requires.ts';
import { freshImagePlugin } from './fresh-image.ts';

const ROOT = join(import.meta.dir, '..');
/** Where the executable is written; the smoke test and the benchmark read it from here. */
export const OUTFILE = join(ROOT, 'dist', 'slipway');
const ENTRY = join(ROOT, 'src', 'main.ts');
const TARGET = 'bun-linux-x64';
/**
 * Profiles of which functions an edge, an agent and a CLI command run (scripts/record-bytecode-order.ts
 * writes them): the bytecode they used is laid out first, together, so a process maps and decodes less of
 * the executable (about 5 MiB less RSS for `serve`, 2 MiB for `serve --role edge`). Only the
 * layout changes; a missing or stale profile costs memory, never behaviour.
 */
const BYTECODE_ORDER = ['edge', 'serve', 'cli']
  .map((name) => join(ROOT, 'scripts', 'bytecode-order', `${name}.order`))
  .filter((file) => existsSync(file));

/** Bundles and compiles src/main.ts into OUTFILE; returns the log lines on failure. */
async function build(): Promise<{ ok: true } | { ok: false; log: string[] }> {
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const consoleAssets = await prebuiltConsole();
  const result = await Bun.build({
    plugins: [consoleAssets, await precomputedCommandIndex(), lazyRequires, freshImagePlugin()],
    entrypoints: [ENTRY],
    target: 'bun',
    compile: {
      target: TARGET,
      outfile: OUTFILE,
      // A deploy agent runs from wherever systemd or its user starts it: a stray .env or
      // bunfig.toml in that directory must not change its behaviour. Settings come from
      // SLIPWAY_* variables and flags only (src/config.ts).
      autoloadDotenv: false,
      autoloadBunfig: false,
      bytecodeOrder: BYTECODE_ORDER.length > 0 && BYTECODE_ORDER,
    },
    // Identifiers keep their names so stack traces stay readable; with `compile`, the source
    // map is embedded (zstd) and Bun maps stack positions back to src/ by itself.
    minify: { whitespace: true, syntax: true, identifiers: false },
    sourcemap: 'linked',
    // Bytecode cuts `slipway --version` from ~70 to ~25 ms for ~7 MiB more binary. ESM because
    // main.ts awaits at the top level, which the default CommonJS bytecode format cannot.
    bytecode: true,
    format: 'esm',
    // Each dynamically imported part (the API, the edge, the CLI's server commands) becomes its own
    // chunk inside the executable, loaded on first import: `serve --role edge` and `slipway --help`
    // then map and evaluate only their own code (about 25 MiB less RSS for the edge).
    splitting: true,
    external: ['cpu-features'],
    throw: false,
  });
  // Bun.inspect renders each message with its file, line and a code frame.
  const log = result.logs.map((message) => Bun.inspect(message));
  if (!result.success) return { ok: false, log };
  for (const line of log) console.error(line);
  // The map is already inside the executable; the copy Bun also writes beside it is noise.
  for (const out of result.outputs) if (out.kind === 'sourcemap') rmSync(out.path, { force: true });
  return { ok: true };
}

/**
 * The web console's client, bundled now: the module that would build it at run time
 * (src/console/assets.ts) is replaced in the executable by one holding the finished text.
 */
async function prebuiltConsole(): Promise<BunPlugin> {
  const assets = await buildClient();
  const contents = `export const consoleAssets = () => Promise.resolve(${JSON.stringify(assets)});`;
  return {
    name: 'slipway-console-assets',
    setup(b) {
      b.onLoad({ filter: /src\/console\/assets\.ts$/ }, () => ({ contents, loader: 'js' }));
    },
  };
}

/**
 * The CLI's index of top-level commands (src/cli/command-index.ts), computed now from the whole
 * command tree: `slipway --help` then builds one-line stand-ins instead of every command.
 */
async function precomputedCommandIndex(): Promise<BunPlugin> {
  const contents = await precomputedIndexModule();
  return {
    name: 'slipway-command-index',
    setup(b) {
      b.onLoad({ filter: /src\/cli\/command-index\.ts$/ }, () => ({ contents, loader: 'js' }));
    },
  };
}

const started = performance.now();
let outcome: Awaited<ReturnType<typeof build>>;
try {
  outcome = await build();
} catch (err) {
  // Bun.build throws an AggregateError for some failures even with `throw: false`.
  const errors = err instanceof AggregateError ? err.errors : [err];
  outcome = { ok: false, log: errors.map((e) => (e instanceof Error ? e.message : String(e))) };
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);

if (!outcome.ok) {
  console.error(`build: failed after ${seconds} s\n${outcome.log.join('\n')}`);
  process.exit(1);
}
const mib = (statSync(OUTFILE).size / 1024 / 1024).toFixed(1);
console.log(`build: ${relative(process.cwd(), OUTFILE) || OUTFILE} (${TARGET}), ${mib} MiB, built in ${seconds} s`);
