import { t } from 'elysia';
import { ProjectName, Timestamp } from '../schemas.ts';

/** A token scope. */
export const Scope = t.Union([t.Literal('read'), t.Literal('deploy'), t.Literal('admin')], {
  description: 'read < deploy < admin; each includes the ones before it',
});

/** A token as listed: never its secret. */
export const Token = t.Object({
  id: t.String({ examples: ['tok_01jd5x9k2m0000000000000000'] }),
  name: t.String(),
  scope: Scope,
  projects: t.Union([t.Array(t.String()), t.Null()], {
    description:
      'Projects the token is limited to, null for all. The token is bound to their ids: a project deleted and ' +
      'created again under its name is not among them (and an empty list limits the token to no project)',
  }),
  hint: t.String({ description: 'The first characters of the token, to recognise it' }),
  created_at: Timestamp,
  expires_at: t.Union([Timestamp, t.Null()]),
  last_used_at: t.Union([Timestamp, t.Null()], { description: 'Updated at most once a minute' }),
  revoked_at: t.Union([Timestamp, t.Null()]),
});

/** A newly minted token, the only response that carries the secret. */
export const CreatedToken = t.Composite([
  Token,
  t.Object({ token: t.String({ description: 'Shown once; store it now' }) }),
]);

/** The body of POST /v1/tokens. */
export const CreateTokenBody = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 64, pattern: '^[\\x20-\\x7E]+$', description: 'A label for people' }),
    scope: Scope,
    projects: t.Optional(
      t.Union([t.Array(ProjectName, { minItems: 1, maxItems: 100 }), t.Null()], {
        description: 'Limit the token to these projects; a name that is no project yet is bound when it is created',
      }),
    ),
    expires_at: t.Optional(t.Union([Timestamp, t.Null()])),
  },
  { additionalProperties: false },
);
