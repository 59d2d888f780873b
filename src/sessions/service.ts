import type { Db } from '../db/open.ts';
import type { SessionRepo, SessionWithToken } from '../db/sessions.ts';
import type { TokenRepo } from '../db/tokens.ts';
import type { ActivityService, Actor } from '../activity/service.ts';
import type { AuthFailure, Principal, TokenService } from '../tokens/service.ts';
import { UnauthorizedError } from '../errors.ts';
import { newId, nowIso, randomToken } from '../ids.ts';
import { hashToken } from '../tokens/format.ts';

/** How long a login link printed by `slipway console-link` can be used. */
export const LOGIN_LINK_SECONDS = 300;
/** The name under which a login-link session acts (it has no token). */
export const LINK_PRINCIPAL_NAME = 'console-link';
/** Secrets are 43 characters of 5 bits each (215 bits), from the system's CSPRNG. */
const SECRET_LENGTH = 43;
const SECRET_PATTERN = /^[0-9a-z]{43}$/;

/** A new session: its id, its expiry and the secret the cookie carries (never stored). */
export interface OpenedSession {
  id: string;
  secret: string;
  expires_at: string;
  principal: Principal;
}

/** How to sign in: with an API token, or with the code of a one-time login link. */
export type SignIn = { token: string } | { link: string };

/** Signs browsers in and out, and resolves a session cookie to the principal it acts as. */
export function sessionService(
  db: Db,
  deps: { repo: SessionRepo; tokenRepo: TokenRepo; tokens: TokenService; activity: ActivityService },
  settings: { sessionSeconds: number },
) {
  const { repo, tokenRepo, tokens, activity } = deps;

  function open(actor: Actor, principal: Principal, tokenId: string | null, tokenExpiry: string | null, via: string) {
    const now = Date.now();
    let expires = now + settings.sessionSeconds * 1000;
    if (tokenExpiry) expires = Math.min(expires, Date.parse(tokenExpiry));
    const secret = randomToken(SECRET_LENGTH);
    const row = {
      id: newId('ses'),
      hash: hashToken(secret),
      token_id: tokenId,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(expires).toISOString(),
    };
    const who = tokenId ? principal : { ...principal, id: row.id };
    db.transaction(() => {
      repo.prune(row.created_at);
      repo.insert(row);
      activity.record(
        { ...actor, tokenId: who.id, tokenName: who.name },
        {
          action: 'session.create',
          targetType: 'session',
          target: row.id,
          changes: { via, expires_at: row.expires_at },
        },
      );
    })();
    return { id: row.id, secret, expires_at: row.expires_at, principal: who };
  }

  return {
    /** Opens a session for a valid token or an unused, unexpired login link; 401 otherwise. */
    signIn(actor: Actor, how: SignIn): OpenedSession {
      if ('link' in how) {
        if (!SECRET_PATTERN.test(how.link) || !repo.useLink(hashToken(how.link), nowIso())) {
          throw new UnauthorizedError('The login link is not valid: it was used already, has expired or is mistyped');
        }
        const principal: Principal = { id: '', name: LINK_PRINCIPAL_NAME, scope: 'admin', projects: null };
        return open(actor, principal, null, null, 'link');
      }
      const result = tokens.authenticate(how.token);
      if (typeof result === 'string') throw new UnauthorizedError(SIGN_IN_FAILURES[result]);
      const row = tokenRepo.findById(result.id);
      return open(actor, result, result.id, row?.expires_at ?? null, 'token');
    },

    /** The principal a session secret acts as now, or why it does not. */
    authenticate(secret: string, now = Date.now()): { principal: Principal; sessionId: string } | AuthFailure {
      if (!SECRET_PATTERN.test(secret)) return 'malformed';
      const row = repo.findByHash(hashToken(secret));
      if (!row || row.ended_at) return 'unknown';
      if (Date.parse(row.expires_at) <= now) return 'expired';
      const principal = principalOf(row, now);
      return typeof principal === 'string' ? principal : { principal, sessionId: row.id };
    },

    /** Ends a session (sign-out); true when it was still open. */
    end(actor: Actor, sessionId: string): boolean {
      return db.transaction(() => {
        const ended = repo.end(sessionId, nowIso());
        if (ended) activity.record(actor, { action: 'session.end', targetType: 'session', target: sessionId });
        return ended;
      })();
    },

    /** Makes a one-time login link code, valid for LOGIN_LINK_SECONDS. */
    createLink(actor: Actor): { code: string; expires_at: string } {
      const code = randomToken(SECRET_LENGTH);
      const now = Date.now();
      const expires_at = new Date(now + LOGIN_LINK_SECONDS * 1000).toISOString();
      db.transaction(() => {
        repo.prune(new Date(now).toISOString());
        repo.insertLink({ hash: hashToken(code), created_at: new Date(now).toISOString(), expires_at });
        activity.record(actor, {
          action: 'session.link',
          targetType: 'session',
          target: 'login-link',
          changes: { expires_at },
        });
      })();
      return { code, expires_at };
    },
  };

  function principalOf(row: SessionWithToken, now: number): Principal | AuthFailure {
    if (row.token_id === null) return { id: row.id, name: LINK_PRINCIPAL_NAME, scope: 'admin', projects: null };
    if (row.token_scope === null) return 'unknown';
    if (row.token_revoked_at) return 'revoked';
    if (row.token_expires_at && Date.parse(row.token_expires_at) <= now) return 'expired';
    const projects = row.token_limited ? tokenRepo.projectsOf(row.token_id) : null;
    return { id: row.token_id, name: row.token_name ?? '', scope: row.token_scope, projects };
  }
}

/** The session service. */
export type SessionService = ReturnType<typeof sessionService>;

const SIGN_IN_FAILURES: Record<AuthFailure, string> = {
  malformed: 'Cannot sign in: that is not an API token (expected slw_ followed by 38 letters and digits)',
  unknown: 'Cannot sign in: the API token is not valid',
  revoked: 'Cannot sign in: the API token has been revoked',
  expired: 'Cannot sign in: the API token has expired',
};
