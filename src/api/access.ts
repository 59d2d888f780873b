import { Elysia } from 'elysia';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { scopeIncludes, type Principal, type Scope, type AuthFailure } from '../tokens/service.ts';
import type { Actor } from '../activity/service.ts';
import { actorOf, requestState, type RequestState } from './request-state.ts';

/**
 * Who may call a route, declared on the route itself as `access: …`:
 * - `'public'`: anyone;
 * - `{ scope }`: a token with at least that scope and no project restriction;
 * - `{ scope, project: 'param' | 'body' }`: the project named by `params.name` / `body.name`
 *   must be one the token may use;
 * - `{ scope, project: 'filter' }`: project-limited tokens are let in and the route shows
 *   them only their projects.
 */
export type AccessRule =
  | 'public'
  | {
      scope: Scope;
      project?: 'param' | 'body' | 'filter';
      /** A query flag that asks for more, such as `?reveal=true`, and the scope it needs. */
      elevated?: { query: string; scope: Scope };
    };

/** The OpenAPI extension under which each route's rule is published (and checked at start). */
export const ACCESS_EXTENSION = 'x-slipway-access';

const FAILURE_MESSAGES: Record<AuthFailure, string> = {
  malformed: 'The bearer token is malformed: expected slw_ followed by 38 letters and digits',
  unknown: 'The bearer token is not valid',
  revoked: 'The bearer token has been revoked',
  expired: 'The bearer token has expired',
};

/** Throws unless the request's principal satisfies `rule`; returns the principal. */
export function authorize(
  rule: AccessRule,
  request: Request,
  params: Record<string, string | undefined> | undefined,
  body: unknown,
  query: Record<string, unknown> = {},
): Principal | null {
  return authorizeState(rule, requestState(request), params, body, query);
}

/** authorize() for a request whose state is at hand (the fast lane's, which is not stored). */
export function authorizeState(
  rule: AccessRule,
  state: RequestState,
  params: Record<string, string | undefined> | undefined,
  body: unknown,
  query: Record<string, unknown> = {},
): Principal | null {
  const { principal, authFailure } = state;
  if (rule === 'public') return principal;
  if (!principal) {
    throw new UnauthorizedError(
      authFailure ? FAILURE_MESSAGES[authFailure] : 'Authentication required: send Authorization: Bearer <token>',
    );
  }
  if (!scopeIncludes(principal.scope, rule.scope)) {
    throw new ForbiddenError(`Token "${principal.name}" has scope "${principal.scope}"; this needs "${rule.scope}"`);
  }
  const flag = rule.elevated ? query[rule.elevated.query] : undefined;
  if (rule.elevated && (flag === true || flag === 'true') && !scopeIncludes(principal.scope, rule.elevated.scope)) {
    throw new ForbiddenError(
      `Token "${principal.name}" has scope "${principal.scope}"; ?${rule.elevated.query}=true needs "${rule.elevated.scope}"`,
    );
  }
  if (principal.projects === null || rule.project === 'filter') return principal;
  if (rule.project === undefined) {
    throw new ForbiddenError(`Token "${principal.name}" is limited to some projects; this needs an unrestricted token`);
  }
  const name = rule.project === 'param' ? params?.name : (body as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && !principal.projects.includes(name)) {
    throw new ForbiddenError(`Token "${principal.name}" may not access project "${name}"`);
  }
  return principal;
}

/** The `access` route option. Checks run in `transform`, before the body is validated. */
export const accessPlugin = new Elysia({ name: 'slipway/access' }).macro({
  access: (rule: AccessRule) => ({
    detail: {
      security: rule === 'public' ? [] : [{ bearerAuth: [] }],
      [ACCESS_EXTENSION]: rule,
    } as Record<string, unknown>,
    transform({ request, params, body, query }) {
      authorize(rule, request, params as Record<string, string>, body, query as Record<string, unknown>);
    },
    resolve({ request }): { principal: Principal | null; actor: Actor } {
      return { principal: requestState(request).principal, actor: actorOf(request) };
    },
  }),
});

/** Project names a caller may see, for `project: 'filter'` routes: null means all. */
export function visibleProjects(principal: Principal | null): string[] | null {
  return principal?.projects ?? null;
}
