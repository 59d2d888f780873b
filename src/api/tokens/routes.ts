import { Elysia, t } from 'elysia';
import type { TokenService } from '../../tokens/service.ts';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors, Page, PageQuery } from '../schemas.ts';
import { CreatedToken, CreateTokenBody, Token } from './schema.ts';

/** /v1/tokens: mint, list and revoke API tokens (admin). */
export function tokenRoutes({ tokens }: { tokens: TokenService }) {
  return new Elysia({ prefix: '/tokens' })
    .use(accessPlugin)
    .post(
      '',
      ({ actor, body, set }) => {
        set.status = 201;
        return tokens.mint(actor, body);
      },
      {
        access: { scope: 'admin' },
        body: CreateTokenBody,
        detail: {
          summary: 'Mint a token',
          description: 'The secret is in the response once and never again.',
          tags: ['Tokens'],
        },
        response: { 201: CreatedToken, ...errors(400, 415, 422, ...AUTH_ERRORS) },
      },
    )
    .get('', ({ query }) => tokens.list({ cursor: query.cursor, limit: query.limit ?? 50 }), {
      access: { scope: 'admin' },
      query: t.Object(PageQuery),
      detail: { summary: 'List tokens', tags: ['Tokens'] },
      response: { 200: Page(Token), ...errors(422, ...AUTH_ERRORS) },
    })
    .delete('/:id', ({ actor, params }) => tokens.revoke(actor, params.id), {
      access: { scope: 'admin' },
      params: t.Object({ id: t.String({ maxLength: 64 }) }),
      detail: { summary: 'Revoke a token', description: 'Takes effect on the next request.', tags: ['Tokens'] },
      response: { 200: Token, ...errors(404, 409, 422, ...AUTH_ERRORS) },
    });
}
