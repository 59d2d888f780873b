import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenService } from './service.ts';

/** Where the first admin token is written. */
export function adminTokenPath(dataDir: string): string {
  return join(dataDir, 'admin-token');
}

/**
 * On the first start with an empty database, mints an admin token and writes it to
 * `<data-dir>/admin-token` with mode 0600 (written to a temporary name, then renamed, so the
 * file never exists with wider permissions or half written). Returns the path, or null when
 * Slipway already had tokens.
 */
export function ensureAdminToken(dataDir: string, tokens: TokenService): string | null {
  const path = adminTokenPath(dataDir);
  if (tokens.count() > 0 || existsSync(path)) return null;
  const { token } = tokens.mint(
    { tokenId: null, tokenName: 'slipway serve (first start)', requestId: null, clientIp: null },
    { name: 'admin', scope: 'admin' },
  );
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
  return path;
}
