#!/usr/bin/env bun
/** The entry point: argv → src/cli/run.ts; the only place that calls process.exit. */
import { processIo } from './cli/io.ts';
import { run } from './cli/run.ts';

// Everything Slipway writes (database, tokens, sources, keys, the CLI's login) is for its own user only.
process.umask(0o077);
process.exit(await run(process.argv.slice(2), processIo(process.env)));
