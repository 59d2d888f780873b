import { loadConfig } from '../config.ts';
import { createDeps } from '../deps.ts';
import { SCOPES, type Scope } from '../tokens/service.ts';

/** Options of `slipway tokens create`. */
export interface CreateTokenOptions {
  name: string;
  scope: string;
  project?: string[];
  expiresAt?: string;
}

/**
 * `slipway tokens create`: mints a token directly in the data directory's database, for
 * bootstrap and recovery when no admin token is at hand. Prints the secret once on stdout.
 */
export function createTokenLocally(
  env: Record<string, string | undefined>,
  flags: Record<string, string | undefined>,
  opts: CreateTokenOptions,
): void {
  if (!(SCOPES as readonly string[]).includes(opts.scope)) {
    throw new UsageError(`--scope must be one of ${SCOPES.join(', ')}, not "${opts.scope}"`);
  }
  for (const p of opts.project ?? []) {
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(p)) throw new UsageError(`--project "${p}" is not a valid project name`);
  }
  const deps = createDeps(loadConfig(env, flags));
  try {
    const minted = deps.tokens.mint(
      { tokenId: null, tokenName: 'slipway tokens create (local)', requestId: null, clientIp: null },
      { name: opts.name, scope: opts.scope as Scope, projects: opts.project ?? null, expires_at: opts.expiresAt ?? null },
    );
    console.error(`Created token ${minted.id} "${minted.name}" with scope ${minted.scope}${minted.projects ? ` for ${minted.projects.join(', ')}` : ''}. It is shown once:`);
    console.log(minted.token);
  } finally {
    deps.close();
  }
}

/** A mistake in how a command was called (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}
