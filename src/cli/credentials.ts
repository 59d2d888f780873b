/**
 * Which agent the CLI talks to, with which token. In order: SLIPWAY_URL / SLIPWAY_TOKEN, the
 * login saved by `slipway login`, then the agent on this host: SLIPWAY_API_LISTEN (default
 * 127.0.0.1:7070) with the admin token from `<data-dir>/admin-token` when this user can read it.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { UnreachableError, UsageError } from './errors.ts';
import type { Env } from './io.ts';
import { readLogin } from './config-file.ts';

/** The default API address of a local agent. */
export const LOCAL_AGENT_URL = 'http://127.0.0.1:7070';

/** Data directories searched for the admin token: `./data` (npm start) and the systemd install's. */
export const LOCAL_DATA_DIRS = ['./data', '/var/lib/slipway'];

/** An agent and the token to use with it; `source` says where the token came from. */
export interface Credentials {
  url: string;
  token: string;
  source: string;
}

/** A URL as the CLI stores it: http(s), no trailing slash; anything else is a usage error. */
export function normaliseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new UsageError(`"${raw}" is not a URL such as http://127.0.0.1:7070`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`"${raw}" must be an http:// or https:// URL`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/** The URL of the agent on this host, from SLIPWAY_API_LISTEN when set (a wildcard becomes loopback). */
export function localAgentUrl(env: Env): string {
  const listen = env.SLIPWAY_API_LISTEN?.trim();
  const m = listen ? /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$/.exec(listen) : null;
  if (!m) return LOCAL_AGENT_URL;
  const host = m[1] ?? m[2] ?? '';
  const wildcard = host === '' || host === '0.0.0.0' || host === '::';
  const shown = wildcard ? (host === '::' ? '[::1]' : '127.0.0.1') : m[1] ? `[${host}]` : host;
  return `http://${shown}:${m[3]}`;
}

/** The first readable `<data-dir>/admin-token`: SLIPWAY_DATA_DIR, then LOCAL_DATA_DIRS. */
export function localAdminToken(env: Env, cwd: string): { token: string; path: string } | null {
  const dirs = [env.SLIPWAY_DATA_DIR, ...LOCAL_DATA_DIRS].filter((d): d is string => !!d);
  for (const dir of dirs) {
    const path = join(isAbsolute(dir) ? dir : join(cwd, dir), 'admin-token');
    try {
      const token = readFileSync(path, 'utf8').trim();
      if (token) return { token, path: isAbsolute(dir) ? path : join(dir, 'admin-token') };
    } catch {
      // missing or not readable by this user: try the next one
    }
  }
  return null;
}

/** True for URLs of this host (the only ones the local admin token is offered to). */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
}

/** Resolves the agent and token; no token anywhere is exit code 3 with how to log in. */
export function resolveCredentials(env: Env, cwd: string): Credentials {
  const saved = readLogin(env);
  const envUrl = env.SLIPWAY_URL?.trim() ? normaliseUrl(env.SLIPWAY_URL.trim()) : null;
  const url = envUrl ?? (saved ? normaliseUrl(saved.url) : localAgentUrl(env));
  const envToken = env.SLIPWAY_TOKEN?.trim();
  if (envToken) return { url, token: envToken, source: 'SLIPWAY_TOKEN' };
  if (saved && normaliseUrl(saved.url) === url) return { url, token: saved.token, source: 'slipway login' };
  const local = isLoopback(url) ? localAdminToken(env, cwd) : null;
  if (local) return { url, token: local.token, source: local.path };
  throw new UnreachableError(`No token for the agent at ${url}`, [
    'Run `slipway login <url>` (the token of a fresh agent is in <data-dir>/admin-token),',
    'or set SLIPWAY_URL and SLIPWAY_TOKEN',
  ]);
}
