#!/usr/bin/env bun
/** The entry point: argv → src/cli/run.ts; the only place that calls process.exit. */
export {};

// Everything Slipway writes (database, tokens, sources, keys, the CLI's login) is for its own user only.
process.umask(0o077);
const argv = process.argv.slice(2);
// A long-running `serve` executes itself again with its JIT policy set (src/cli/jit-policy.ts).
if (argv[0] === 'serve') {
  const { applyServeJitPolicy } = await import('./cli/jit-policy.ts');
  const { execPath, argv: args, env, execve } = process;
  if (execve) applyServeJitPolicy({ execPath, main: Bun.main, argv: args, env, execve: execve.bind(process) });
}
// `serve` starts from serve-entry.ts: an agent or an edge never loads the rest of the CLI.
const code = argv[0] === 'serve' ? await (await import('./cli/serve-entry.ts')).runServe(argv) : await runCli();
process.exit(code);

async function runCli(): Promise<number> {
  const [{ processIo }, { run }] = await Promise.all([import('./cli/io.ts'), import('./cli/run.ts')]);
  return run(argv, processIo(process.env));
}
