#!/usr/bin/env bun
import { Command, CommanderError } from 'commander';
import { ConfigError } from './config.ts';
import { AppError } from './errors.ts';
import { VERSION } from './version.ts';
import { serve } from './cli/serve.ts';
import { createTokenLocally, UsageError } from './cli/tokens.ts';
import { addSettingOptions, settingFlags } from './cli/settings-options.ts';

/** Exit codes: 0 ok, 1 failed operation, 2 usage or configuration error. */
const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

function program(env: Record<string, string | undefined>): Command {
  const cli = new Command('slipway')
    .description('Self-hosted deploy agent: upload source, get a zero-downtime deploy')
    .version(VERSION, '-v, --version')
    .exitOverride()
    .showHelpAfterError();

  addSettingOptions(
    cli.command('serve').description('Run the agent: the REST API (and, later, the edge and the deploy worker)'),
  ).action(async (opts) => serve(env, settingFlags(opts)));

  const tokens = cli.command('tokens').description('Manage API tokens');
  addSettingOptions(
    tokens
      .command('create')
      .description('Mint a token directly in the data directory (bootstrap and recovery); prints it once')
      .requiredOption('--name <name>', 'a label for people')
      .option('--scope <scope>', 'read, deploy or admin', 'read')
      .option('--project <name...>', 'limit the token to these projects')
      .option('--expires-at <time>', 'ISO 8601 expiry time'),
    ['dataDir', 'logLevel'],
  ).action((opts) => createTokenLocally(env, settingFlags(opts), opts));
  return cli;
}

async function main(): Promise<number> {
  // Everything Slipway writes (database, tokens, sources, keys) is for its own user only.
  process.umask(0o077);
  try {
    await program(process.env).parseAsync(process.argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof ConfigError || err instanceof UsageError) {
      console.error(`slipway: ${err.message}`);
      return EXIT.usage;
    }
    if (err instanceof AppError) {
      console.error(`slipway: ${err.message}`);
      return EXIT.failed;
    }
    console.error(`slipway: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
}

process.exit(await main());
