import { Elysia, t } from 'elysia';
import type { CertificateService } from '../../certificates/service.ts';
import { scopeIncludes } from '../../tokens/service.ts';
import { accessPlugin, visibleProjects } from '../access.ts';
import { AUTH_ERRORS, errors } from '../schemas.ts';
import { Certificate, CertificateUpload, DomainCertificateParams } from './schema.ts';

const CertificateList = t.Object({
  data: t.Array(Certificate),
  pagination: t.Object({ next_cursor: t.Null(), has_more: t.Boolean() }),
});
const UPLOAD_CHECKS =
  'The chain must parse, its first certificate must match the key, cover the name and be valid now; otherwise 422 says which check failed.';

/**
 * Certificates: the list, a domain's uploaded certificate and its renewal
 * (/v1/projects/{name}/domains/{hostname}/certificate), and the base domain's wildcard.
 */
export function certificateRoutes({ certificates }: { certificates: CertificateService }) {
  const { uploads } = certificates;
  return new Elysia()
    .use(accessPlugin)
    .get(
      '/certificates',
      ({ principal }) => ({
        data: certificates.list(visibleProjects(principal)),
        pagination: { next_cursor: null, has_more: false },
      }),
      {
        access: { scope: 'read', project: 'filter' },
        detail: {
          summary: 'List certificates',
          description:
            'Every certificate the edge serves, with its expiry and renewal state, ordered by host name. Project-limited tokens see only their projects.',
          tags: ['Certificates'],
        },
        response: { 200: CertificateList, ...errors(...AUTH_ERRORS) },
      },
    )
    .get('/certificates/base-domain', () => uploads.getWildcard(), {
      access: { scope: 'admin' },
      detail: { summary: "Show the base domain's wildcard certificate", tags: ['Certificates'] },
      response: { 200: Certificate, ...errors(404, ...AUTH_ERRORS) },
    })
    .put('/certificates/base-domain', ({ actor, body }) => uploads.putWildcard(actor, body), {
      access: { scope: 'admin' },
      body: CertificateUpload,
      detail: {
        summary: 'Upload a wildcard certificate for the base domain',
        description: `It must name *.<base-domain> and then serves every <project>.<base-domain>; default host names stop getting certificates of their own. ${UPLOAD_CHECKS}`,
        tags: ['Certificates'],
      },
      response: { 200: Certificate, ...errors(400, 415, 422, ...AUTH_ERRORS) },
    })
    .delete(
      '/certificates/base-domain',
      ({ actor, set }) => {
        uploads.removeWildcard(actor);
        set.status = 204;
      },
      {
        access: { scope: 'admin' },
        detail: {
          summary: "Remove the base domain's wildcard certificate",
          description: 'With ACME on and a public base domain, each default host name gets its own certificate again.',
          tags: ['Certificates'],
        },
        response: { 204: t.Void(), ...errors(404, ...AUTH_ERRORS) },
      },
    )
    .put(
      '/projects/:name/domains/:hostname/certificate',
      ({ actor, params, body }) => uploads.putForDomain(actor, params.name, params.hostname, body),
      {
        access: { scope: 'deploy', project: 'param' },
        params: DomainCertificateParams,
        body: CertificateUpload,
        detail: {
          summary: "Upload a domain's certificate",
          description: `Bring your own certificate: it replaces any other for the name at once, the domain becomes active, and Slipway never renews it. ${UPLOAD_CHECKS}`,
          tags: ['Certificates'],
        },
        response: { 200: Certificate, ...errors(400, 404, 415, 422, ...AUTH_ERRORS) },
      },
    )
    .delete(
      '/projects/:name/domains/:hostname/certificate',
      ({ actor, params, set }) => {
        uploads.removeForDomain(actor, params.name, params.hostname);
        set.status = 204;
      },
      {
        access: { scope: 'deploy', project: 'param' },
        params: DomainCertificateParams,
        detail: {
          summary: "Remove a domain's certificate",
          description:
            'The domain goes back to pending_dns: it is verified again and, with ACME on, gets a certificate ordered.',
          tags: ['Certificates'],
        },
        response: { 204: t.Void(), ...errors(404, 422, ...AUTH_ERRORS) },
      },
    )
    .post(
      '/projects/:name/domains/:hostname/certificate/renew',
      ({ actor, principal, params }) =>
        certificates.renewNow(actor, params.name, params.hostname, {
          early: principal !== null && scopeIncludes(principal.scope, 'admin'),
        }),
      {
        access: { scope: 'deploy', project: 'param' },
        params: DomainCertificateParams,
        detail: {
          summary: "Renew a domain's certificate now",
          description:
            "Orders a new certificate (new key) and waits for it; the old one is served until the new one replaces it. Without a certificate yet, orders the first. Deploy tokens may renew only in the last third of the certificate's lifetime (409 before) or after a failure; an admin token may renew any time. While a failure's backoff runs, and near the CA's weekly limit or the project's cap of 10 orders an hour: 429 with Retry-After and the time in the message. 409 with the CA's words when the order fails.",
          tags: ['Certificates'],
        },
        response: { 200: Certificate, ...errors(404, 409, 422, 429, ...AUTH_ERRORS) },
      },
    );
}
