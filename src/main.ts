#!/usr/bin/env bun
/** The entry point: argv → src/cli/run.ts; the only place that calls process.exit. */
export {};

// Everything Slipway writes (database, tokens, sources, keys, the CLI's login) is for its own user only.
process.umask(0o077);
const argv = process.argv.slice(2);
// `serve` starts from serve-entry.ts: an agent or an edge never loads the rest of the CLI.
const code = argv[0] === 'serve' ? await (await import('./cli/serve-entry.ts')).runServe(argv) : await runCli();
process.exit(code);

async function runCli(): Promise<number> {
  const [{ processIo }, { run }] = await Promise.all([import('./cli/io.ts'), import('./cli/run.ts')]);
  return run(argv, processIo(process.env));
}
