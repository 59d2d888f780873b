import { Elysia, t } from 'elysia';
import type { SessionService, SignIn } from '../../sessions/service.ts';
import { BadRequestError, ValidationError } from '../../errors.ts';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors, Timestamp } from '../schemas.ts';
import { Scope } from '../tokens/schema.ts';
import { assertSameOrigin, clearedCookie, isHttps, sessionCookie, sessionOf } from '../session-cookie.ts';

const Session = t.Object({
  id: t.String({ examples: ['ses_01jd5x9k2m0000000000000000'] }),
  expires_at: Timestamp,
  principal: t.Object({
    id: t.String(),
    name: t.String(),
    scope: Scope,
    projects: t.Union([t.Array(t.String()), t.Null()]),
  }),
});

const SignInBody = t.Object(
  {
    token: t.Optional(t.String({ maxLength: 200, description: 'An API token, slw_…' })),
    link: t.Optional(t.String({ maxLength: 200, description: 'The code of a login link from `slipway console-link`' })),
  },
  { additionalProperties: false, description: 'Exactly one of `token` and `link`' },
);

/** /v1/sessions: the console's sign-in (sets an HttpOnly session cookie) and sign-out. */
export function sessionRoutes({ sessions }: { sessions: SessionService }) {
  return new Elysia({ prefix: '/sessions' })
    .use(accessPlugin)
    .post(
      '',
      ({ actor, body, request, set }) => {
        // A cross-site page must not sign the browser in as someone else. A request with an
        // Authorization header is no browser's doing (a cross-site page cannot add one).
        const how = signInOf(body);
        if (!request.headers.has('authorization')) assertSameOrigin(request);
        const opened = sessions.signIn(actor, how);
        set.status = 201;
        set.headers['set-cookie'] = sessionCookie(opened.secret, opened.expires_at, isHttps(request));
        set.headers['cache-control'] = 'no-store';
        return { id: opened.id, expires_at: opened.expires_at, principal: opened.principal };
      },
      {
        access: 'public',
        body: SignInBody,
        detail: {
          summary: 'Sign in to the console',
          description:
            'Opens a session for an API token or a one-time login link and sets the `slipway_session` cookie ' +
            '(HttpOnly, SameSite=Strict, Secure under HTTPS). The cookie then authenticates `/v1` like the token; ' +
            'state-changing requests with it need a same-origin `Origin`/`Sec-Fetch-Site` and an `X-Slipway-Csrf` header.',
          tags: ['Tokens'],
        },
        response: { 201: Session, ...errors(400, 401, 403, 415, 422, 429) },
      },
    )
    .delete(
      '/current',
      ({ actor, request, set }) => {
        const id = sessionOf(request);
        if (!id) throw new BadRequestError('Cannot sign out: this request was not made with a console session cookie');
        sessions.end(actor, id);
        set.headers['set-cookie'] = clearedCookie(isHttps(request));
        return { id, ended: true };
      },
      {
        access: { scope: 'read', project: 'filter' },
        detail: {
          summary: 'Sign out of the console',
          description: 'Ends the session of the cookie.',
          tags: ['Tokens'],
        },
        response: { 200: t.Object({ id: t.String(), ended: t.Boolean() }), ...errors(400, ...AUTH_ERRORS) },
      },
    );
}

function signInOf(body: { token?: string; link?: string }): SignIn {
  if (body.token !== undefined && body.link === undefined) return { token: body.token };
  if (body.link !== undefined && body.token === undefined) return { link: body.link };
  throw new ValidationError('Cannot sign in: send either token or link', [
    { path: '/token', message: 'Expected exactly one of token and link' },
  ]);
}
