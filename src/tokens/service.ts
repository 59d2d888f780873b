import type { Db } from '../db/open.ts';
import type { TokenRepo, TokenRow } from '../db/tokens.ts';
import { decodeCursor, toPage, type Page } from '../db/pagination.ts';
import { changeCounter, ReadCache } from '../db/read-cache.ts';
import type { ActivityService, Actor } from '../activity/service.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { newId, nowIso } from '../ids.ts';
import { generateToken, hashToken, isWellFormed, tokenHint } from './format.ts';

/** Token scopes, each including the ones before it. */
export const SCOPES = ['read', 'deploy', 'admin'] as const;
/** One of SCOPES. */
export type Scope = (typeof SCOPES)[number];

/** The authenticated caller behind a request. */
export interface Principal {
  id: string;
  name: string;
  scope: Scope;
  /**
   * Names of the projects a limited token may use, or null for every project. The token is bound
   * to the projects' ids; their names are looked up when it authenticates, so a project deleted
   * and created again under its old name is not among them.
   */
  projects: string[] | null;
}

/** A token as the API shows it: never the secret nor its hash. */
export interface TokenView {
  id: string;
  name: string;
  scope: Scope;
  projects: string[] | null;
  hint: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** What a new token is made of. */
export interface NewToken {
  name: string;
  scope: Scope;
  projects?: string[] | null;
  expires_at?: string | null;
}

/** Why a presented token was not accepted. */
export type AuthFailure = 'malformed' | 'unknown' | 'revoked' | 'expired';

/** last_used_at is written at most this often per token, to keep reads read-only. */
const TOUCH_INTERVAL_MS = 60_000;

/** True when `have` includes `need`. */
export function scopeIncludes(have: Scope, need: Scope): boolean {
  return SCOPES.indexOf(have) >= SCOPES.indexOf(need);
}

/** A token's row as authentication needs it, with the projects it may use resolved once. */
interface Presented {
  row: TokenRow;
  expiresAt: number | null;
  principal: Principal;
}

/**
 * Mints, authenticates, lists and revokes API tokens. Authentication reads each token's row once
 * and keeps it while the database is unchanged (ReadCache): any write, a revocation or a renamed
 * project included, makes the next request read it again.
 */
export function tokenService(db: Db, repo: TokenRepo, activity: ActivityService) {
  const lastTouched = new Map<string, number>();
  const presented = new ReadCache<Presented>(changeCounter(db));

  const projectsOf = (row: TokenRow): string[] | null => (row.limited ? repo.projectsOf(row.id) : null);

  const view = (row: TokenRow): TokenView => ({
    id: row.id,
    name: row.name,
    scope: row.scope,
    projects: projectsOf(row),
    hint: row.hint,
    created_at: row.created_at,
    expires_at: row.expires_at,
    last_used_at: row.last_used_at,
    revoked_at: row.revoked_at,
  });

  // The principal is shared by every request that presents the token until the cache drops it.
  const present = (row: TokenRow): Presented => {
    const projects = projectsOf(row);
    // Frozen, so that no request can change what the next one sees (a mutation would throw).
    const frozen = projects && (Object.freeze(projects) as string[]);
    const principal = { id: row.id, name: row.name, scope: row.scope, projects: frozen };
    return { row, expiresAt: row.expires_at ? Date.parse(row.expires_at) : null, principal: Object.freeze(principal) };
  };

  const load = (token: string): Presented | undefined => {
    if (!isWellFormed(token)) return undefined;
    const row = repo.findByHash(hashToken(token));
    return row && present(row);
  };

  function touch(row: TokenRow, now: number): void {
    const previous = lastTouched.get(row.id) ?? (row.last_used_at ? Date.parse(row.last_used_at) : 0);
    if (now - previous < TOUCH_INTERVAL_MS) return;
    lastTouched.set(row.id, now);
    repo.touch(row.id, new Date(now).toISOString());
  }

  return {
    /** Creates a token and returns it with its secret, the only time the secret is seen. */
    mint(actor: Actor, input: NewToken): TokenView & { token: string } {
      const expiresAt = normaliseExpiry(input.expires_at ?? null);
      const token = generateToken();
      const row = {
        id: newId('tok'),
        name: input.name,
        hash: hashToken(token),
        hint: tokenHint(token),
        scope: input.scope,
        limited: input.projects ? 1 : 0,
        created_at: nowIso(),
        expires_at: expiresAt,
      } as const;
      const projects = input.projects ? [...new Set(input.projects)].sort() : [];
      db.transaction(() => {
        repo.insert(row, projects);
        activity.record(actor, {
          action: 'token.create',
          targetType: 'token',
          target: row.id,
          changes: { name: row.name, scope: row.scope, projects: input.projects ?? null, expires_at: expiresAt },
        });
      })();
      return { ...view({ ...row, last_used_at: null, revoked_at: null }), token };
    },

    /** How many tokens exist, revoked ones included. */
    count: () => repo.count(),

    /** Resolves a presented secret to its principal, or says why it is not accepted. */
    authenticate(token: string, now = Date.now()): Principal | AuthFailure {
      // Keyed by the presented secret, so that a token seen before skips the checksum and the
      // SHA-256 (a fifth of an authenticated GET). Only tokens found in the database are kept, and
      // only in this process's memory, which already holds every request's Authorization header.
      const found = presented.get(token, load);
      if (!found) return isWellFormed(token) ? 'unknown' : 'malformed';
      if (found.row.revoked_at) return 'revoked';
      if (found.expiresAt !== null && found.expiresAt <= now) return 'expired';
      touch(found.row, now);
      return found.principal;
    },

    /** Tokens in creation order, revoked ones included. */
    list(q: { cursor?: string; limit: number }): Page<TokenView> {
      const rows = repo.list(decodeCursor('tokens', q.cursor, 'string') ?? '', q.limit + 1);
      const page = toPage(rows, q.limit, (r) => r.id, 'tokens');
      return { data: page.data.map(view), pagination: page.pagination };
    },

    /** Revokes a token; it stops working on the very next request. */
    revoke(actor: Actor, id: string): TokenView {
      return db.transaction(() => {
        const row = repo.findById(id);
        if (!row) throw new NotFoundError(`No token with id "${id}"`);
        if (row.revoked_at) throw new ConflictError(`Cannot revoke token "${id}": it was revoked at ${row.revoked_at}`);
        const at = nowIso();
        repo.revoke(id, at);
        activity.record(actor, {
          action: 'token.revoke',
          targetType: 'token',
          target: id,
          changes: { name: row.name },
        });
        return view({ ...row, revoked_at: at });
      })();
    },
  };
}

/** The token service. */
export type TokenService = ReturnType<typeof tokenService>;

function normaliseExpiry(value: string | null): string | null {
  if (value === null) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new ValidationError('Cannot create the token: expires_at is not a date-time', [
      { path: '/expires_at', message: 'Expected an ISO 8601 date-time' },
    ]);
  }
  if (ms <= Date.now()) {
    throw new ValidationError('Cannot create the token: expires_at is in the past', [
      { path: '/expires_at', message: 'Expected a time in the future' },
    ]);
  }
  return new Date(ms).toISOString();
}
