import { Elysia, t } from 'elysia';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors } from '../schemas.ts';
import { Scope } from '../tokens/schema.ts';

const Me = t.Object({
  id: t.String(),
  name: t.String(),
  scope: Scope,
  projects: t.Union([t.Array(t.String()), t.Null()]),
});

/** GET /v1/me: the calling token. */
export function meRoutes() {
  return new Elysia().use(accessPlugin).get(
    '/me',
    ({ principal }) => {
      const { id, name, scope, projects } = principal!;
      return { id, name, scope, projects };
    },
    {
      access: { scope: 'read', project: 'filter' },
      detail: { summary: 'The calling token', tags: ['Tokens'] },
      response: { 200: Me, ...errors(...AUTH_ERRORS) },
    },
  );
}
