/**
 * `slipway tokens …`: create, list and revoke API tokens through the agent. `tokens create`
 * also works locally, straight in the data directory's database (bootstrap and recovery):
 * with --data-dir or --local, or when no agent or login is configured.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import type { createDeps as CreateDeps } from '../deps.ts';
import { SCOPES, type Scope } from '../tokens/service.ts';
import { seg } from './client.ts';
import { PROJECT_NAME, type Ctx } from './context.ts';
import { resolveCredentials } from './credentials.ts';
import { UnreachableError, UsageError } from './errors.ts';
import { colorsFor, note, out, type Env, type Io } from './io.ts';
import { ago, printJson, printTable } from './output.ts';
import { addSettingOptions, settingFlags } from './settings-options.ts';
import type { Token } from './api-types.ts';

/** Options of `slipway tokens create`. */
export interface CreateTokenOptions {
  name: string;
  scope: string;
  project?: string[];
  expiresAt?: string;
}

/** Registers the `tokens` group. */
export function registerTokens(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  const tokens = cli.command('tokens').description('Create, list and revoke API tokens (admin)');
  addSettingOptions(
    tokens
      .command('create')
      .description('Mint a token and print it once; locally in the data directory with --data-dir or --local')
      .requiredOption('--name <name>', 'a label for people')
      .option('--scope <scope>', 'read, deploy or admin', 'read')
      .option('--project <name...>', 'limit the token to these projects')
      .option('--expires-at <time>', 'ISO 8601 expiry time')
      .option('--local', 'mint it in the data directory, without the agent'),
    ['dataDir', 'logLevel'],
  ).action(async (opts: CreateTokenOptions & { local?: boolean; dataDir?: string }) => {
    checkTokenOptions(opts);
    if (opts.local || opts.dataDir !== undefined || !hasCredentials(io))
      return createTokenLocally(io.env, settingFlags(opts), opts, io);
    const minted = await ctx.client().json<Token & { token: string }>('POST', '/v1/tokens', {
      body: { name: opts.name, scope: opts.scope, projects: opts.project ?? null, expires_at: opts.expiresAt ?? null },
    });
    announce(io, minted);
  });

  tokens
    .command('list')
    .alias('ls')
    .description('List the tokens (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await ctx.client().list<Token>('/v1/tokens');
      if (opts.json) return printJson(io, list);
      const c = colorsFor(io);
      const rows = list.map((t) => [
        t.id,
        t.name,
        t.scope,
        t.projects ? t.projects.join(',') : 'all',
        t.hint,
        ago(t.last_used_at, io.now()),
        tokenState(t, io.now(), c),
      ]);
      printTable(io, c, ['id', 'name', 'scope', 'projects', 'hint', 'last used', 'state'], rows, 'No tokens');
    });

  tokens
    .command('revoke')
    .description('Revoke a token; it stops working on the next request')
    .argument('<id>', 'tok_…')
    .action(async (id: string) => {
      const t = await ctx.client().json<Token>('DELETE', `/v1/tokens/${seg(id)}`);
      out(io, `Revoked token ${t.id} "${t.name}"`);
    });
}

function tokenState(t: Token, now: number, c: ReturnType<typeof colorsFor>): string {
  if (t.revoked_at) return c.red('revoked');
  if (t.expires_at && Date.parse(t.expires_at) <= now) return c.yellow('expired');
  return c.green('active');
}

function hasCredentials(io: Io): boolean {
  try {
    resolveCredentials(io.env, io.cwd);
    return true;
  } catch (err) {
    if (err instanceof UnreachableError) return false;
    throw err;
  }
}

function checkTokenOptions(opts: CreateTokenOptions): void {
  if (!(SCOPES as readonly string[]).includes(opts.scope)) {
    throw new UsageError(`--scope must be one of ${SCOPES.join(', ')}, not "${opts.scope}"`);
  }
  for (const p of opts.project ?? []) {
    if (!PROJECT_NAME.test(p)) throw new UsageError(`--project "${p}" is not a valid project name`);
  }
}

/** The summary on stderr, the secret alone on stdout (so `$(slipway tokens create …)` captures just it). */
function announce(io: Io, t: Token & { token: string }): void {
  note(
    io,
    `Created token ${t.id} "${t.name}" with scope ${t.scope}${t.projects ? ` for ${t.projects.join(', ')}` : ''}. It is shown once:`,
  );
  out(io, t.token);
}

/** Mints a token directly in the data directory's database, for bootstrap and recovery. */
export function createTokenLocally(
  env: Env,
  flags: Record<string, string | undefined>,
  opts: CreateTokenOptions,
  io: Io,
): void {
  checkTokenOptions(opts);
  // The whole agent (database, Docker client, services) loads only for this command, not for every CLI start.
  const { createDeps } = require('../deps.ts') as { createDeps: typeof CreateDeps };
  const deps = createDeps(loadConfig(env, flags));
  try {
    const minted = deps.tokens.mint(
      { tokenId: null, tokenName: 'slipway tokens create (local)', requestId: null, clientIp: null },
      {
        name: opts.name,
        scope: opts.scope as Scope,
        projects: opts.project ?? null,
        expires_at: opts.expiresAt ?? null,
      },
    );
    announce(io, { ...minted, projects: minted.projects ?? null } as Token & { token: string });
  } finally {
    deps.close();
  }
}
