/**
 * The CLI's own file, `$XDG_CONFIG_HOME/slipway/config.json` (else `~/.config/slipway/config.json`):
 * the agent URL and token saved by `slipway login`. Mode 0600 in a 0700 directory.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from './errors.ts';
import type { Env } from './io.ts';

/** What `slipway login` saves. */
export interface SavedLogin {
  url: string;
  token: string;
}

/** Where the CLI keeps its login, honouring XDG_CONFIG_HOME. */
export function configFilePath(env: Env): string {
  const base = env.XDG_CONFIG_HOME?.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME ?? '/root', '.config');
  return join(base, 'slipway', 'config.json');
}

/** The saved login, or null when there is none; a damaged file is a usage error naming it. */
export function readLogin(env: Env): SavedLogin | null {
  const path = configFilePath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(`Cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<SavedLogin>;
    if (typeof parsed.url === 'string' && typeof parsed.token === 'string')
      return { url: parsed.url, token: parsed.token };
  } catch {
    // reported below
  }
  throw new UsageError(`${path} is not a login saved by slipway: run \`slipway login <url>\` again, or remove it`);
}

/** Saves the login with mode 0600, written to a temporary name and renamed, so it is never half written. */
export function writeLogin(env: Env, login: SavedLogin): string {
  const path = configFilePath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  // The mode argument is filtered by the umask; make sure of it.
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}

/** Removes the saved login; true when there was one. */
export function removeLogin(env: Env): boolean {
  const path = configFilePath(env);
  try {
    rmSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
