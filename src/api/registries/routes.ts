import { Elysia, t } from 'elysia';
import type { RegistryService } from '../../registries/service.ts';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors, Page, PageQuery } from '../schemas.ts';
import { AddRegistryBody, Registry, RegistryParams } from './schema.ts';

const ADD_DESCRIPTION = `Credentials for pulling prebuilt images from one registry host. They are host-wide: every
deployment of an image from that host uses them, whichever project it is for, so register pull-only
credentials (a read-only robot account or access token). Adding a host again replaces its credentials.
A registry on a loopback or private address can only be pulled from once it is registered here.`;

/** /v1/registries: pull credentials for prebuilt images (admin). */
export function registryRoutes({ registries }: { registries: RegistryService }) {
  return new Elysia({ prefix: '/registries' })
    .use(accessPlugin)
    .post(
      '',
      ({ actor, body, set }) => {
        const { registry, replaced } = registries.add(actor, body);
        set.status = replaced ? 200 : 201;
        return registry;
      },
      {
        access: { scope: 'admin' },
        body: AddRegistryBody,
        detail: { summary: 'Add or replace registry credentials', description: ADD_DESCRIPTION, tags: ['Registries'] },
        response: { 200: Registry, 201: Registry, ...errors(400, 415, 422, ...AUTH_ERRORS) },
      },
    )
    .get('', ({ query }) => registries.list({ cursor: query.cursor, limit: query.limit ?? 50 }), {
      access: { scope: 'admin' },
      query: t.Object(PageQuery),
      detail: { summary: 'List registry credentials', description: 'Passwords are never shown.', tags: ['Registries'] },
      response: { 200: Page(Registry), ...errors(400, 422, ...AUTH_ERRORS) },
    })
    .get('/:host', ({ params }) => registries.get(params.host), {
      access: { scope: 'admin' },
      params: RegistryParams,
      detail: { summary: 'Get registry credentials (without the password)', tags: ['Registries'] },
      response: { 200: Registry, ...errors(404, 422, ...AUTH_ERRORS) },
    })
    .delete('/:host', ({ actor, params }) => registries.remove(actor, params.host), {
      access: { scope: 'admin' },
      params: RegistryParams,
      detail: { summary: 'Remove registry credentials', tags: ['Registries'] },
      response: { 200: Registry, ...errors(404, 422, ...AUTH_ERRORS) },
    });
}
