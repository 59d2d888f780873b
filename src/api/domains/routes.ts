import { Elysia, t } from 'elysia';
import type { DomainService } from '../../domains/service.ts';
import { accessPlugin } from '../access.ts';
import { ProjectParams } from '../projects/schema.ts';
import { AUTH_ERRORS, errors, Page, PageQuery } from '../schemas.ts';
import { AddDomainBody, Domain, DomainParams, UpdateDomainBody } from './schema.ts';

const TAGS = ['Domains'];

/** /v1/projects/{name}/domains: custom host names, their verification and their certificates. */
export function domainRoutes({ domains }: { domains: DomainService }) {
  return new Elysia({ prefix: '/projects/:name/domains' })
    .use(accessPlugin)
    .post(
      '',
      async ({ actor, principal, params, body, set }) => {
        set.status = 201;
        return domains.add(actor, params.name, body, principal?.scope === 'admin');
      },
      {
        access: { scope: 'deploy', project: 'param' },
        params: ProjectParams,
        body: AddDomainBody,
        detail: {
          summary: 'Add a custom domain',
          description:
            "The first check runs before the answer: status pending_dns with a reason and dns_records says what to create; verified names get a certificate ordered in the background when ACME and HTTPS are on. A name added by an admin token is routed at once. A name added by any other token must also be proven yours with the TXT record listed in dns_records (_slipway-challenge.<hostname> = slipway-verification=<token>), and the edge routes it only once verified: pointing a name at this shared server does not make it yours. A host name belongs to one project at most (409), and so do the names under one registered domain (example.com) unless an admin token adds them (409 otherwise): one tenant may not route itself a sibling of another tenant's name. Names under the registered domains of SLIPWAY_BASE_DOMAIN and SLIPWAY_API_DOMAIN are the agent's own: only an admin token may add them (409).",
          tags: TAGS,
        },
        response: { 201: Domain, ...errors(400, 404, 409, 415, 422, ...AUTH_ERRORS) },
      },
    )
    .get('', ({ params, query }) => domains.list(params.name, { cursor: query.cursor, limit: query.limit ?? 50 }), {
      access: { scope: 'read', project: 'param' },
      params: ProjectParams,
      query: t.Object(PageQuery),
      detail: { summary: "List a project's domains", description: 'Ordered by host name.', tags: TAGS },
      response: { 200: Page(Domain), ...errors(400, 404, 422, ...AUTH_ERRORS) },
    })
    .get('/:hostname', ({ params }) => domains.get(params.name, params.hostname), {
      access: { scope: 'read', project: 'param' },
      params: DomainParams,
      detail: { summary: 'Get a domain', tags: TAGS },
      response: { 200: Domain, ...errors(404, 422, ...AUTH_ERRORS) },
    })
    .patch('/:hostname', ({ actor, params, body }) => domains.update(actor, params.name, params.hostname, body), {
      access: { scope: 'deploy', project: 'param' },
      params: DomainParams,
      body: UpdateDomainBody,
      detail: { summary: "Change a domain's options", description: 'The edge follows at once.', tags: TAGS },
      response: { 200: Domain, ...errors(400, 404, 415, 422, ...AUTH_ERRORS) },
    })
    .delete(
      '/:hostname',
      async ({ actor, params, set }) => {
        await domains.remove(actor, params.name, params.hostname);
        set.status = 204;
      },
      {
        access: { scope: 'deploy', project: 'param' },
        params: DomainParams,
        detail: {
          summary: 'Remove a domain',
          description: 'The edge stops routing the name; its certificate and any challenge left are removed.',
          tags: TAGS,
        },
        response: { 204: t.Void({ description: 'Removed' }), ...errors(404, 422, ...AUTH_ERRORS) },
      },
    )
    .post('/:hostname/verify', ({ actor, params }) => domains.verify(actor, params.name, params.hostname), {
      access: { scope: 'deploy', project: 'param' },
      params: DomainParams,
      detail: {
        summary: 'Check a domain now',
        description:
          "Resolves the name (A, AAAA, CNAME) and, when it points elsewhere, tries the HTTP self-check (only through public addresses or the agent's own); for a name that needs an ownership proof, reads its TXT record too; returns the domain as the check left it. Joins a check already running; during a certificate order it returns the domain as it is.",
        tags: TAGS,
      },
      response: { 200: Domain, ...errors(404, 422, ...AUTH_ERRORS) },
    });
}
