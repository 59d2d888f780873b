import { Elysia, t } from 'elysia';
import type { DeadLetterService } from '../../ops/dead-letter.ts';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors, Page, PageQuery, ProjectName, Timestamp } from '../schemas.ts';

// A union of literals, not UnionEnum: as an optional query field, UnionEnum defaults to its first value.
const Kind = t.Union([
  t.Literal('deployment'),
  t.Literal('webhook_delivery'),
  t.Literal('backup'),
  t.Literal('certificate_renewal'),
]);

const Item = t.Object({
  kind: Kind,
  id: t.String({ description: 'The deployment, delivery or backup id, or the certificate host name' }),
  project: t.Union([t.String(), t.Null()]),
  failed_at: Timestamp,
  reason: t.Union([t.String(), t.Null()]),
  detail: t.Record(t.String(), t.Unknown(), { description: "The kind's own fields (number, webhook_id, attempts, …)" }),
  retry: t.Union([t.Object({ method: t.Literal('POST'), path: t.String() }), t.Null()], {
    description: 'The request that re-queues it; null when Slipway retries it by itself',
  }),
});

const Retried = t.Object({
  kind: Kind,
  id: t.String(),
  retried_as: t.String({ description: 'The new deployment, delivery or backup id, or the host name renewed' }),
  message: t.String(),
});

/** /v1/ops/dead-letter: what gave up, and its retry. */
export function opsRoutes({ deadLetter }: { deadLetter: DeadLetterService }) {
  return new Elysia({ prefix: '/ops/dead-letter' })
    .use(accessPlugin)
    .get(
      '',
      ({ principal, query }) =>
        deadLetter.list(principal, {
          project: query.project,
          kind: query.kind,
          cursor: query.cursor,
          limit: query.limit ?? 50,
        }),
      {
        access: { scope: 'read', project: 'filter' },
        query: t.Object({ ...PageQuery, project: t.Optional(ProjectName), kind: t.Optional(Kind) }),
        detail: {
          summary: 'List what gave up, newest first',
          description:
            'Failed deployments with their reasons, webhook deliveries out of retries, failed backups and certificates whose renewal fails. ' +
            '`?project=` filters; project-limited tokens see only their projects, and backups and webhook deliveries (agent-wide) are shown to unrestricted admin tokens only.',
          tags: ['Ops'],
        },
        response: { 200: Page(Item), ...errors(400, 422, ...AUTH_ERRORS) },
      },
    )
    .post(
      '/:kind/:id/retry',
      async ({ actor, principal, params, set }) => {
        const retried = await deadLetter.retry(actor, principal, params.kind, params.id);
        set.status = 202;
        return retried;
      },
      {
        access: { scope: 'deploy', project: 'filter' },
        params: t.Object({ kind: Kind, id: t.String({ maxLength: 253 }) }),
        detail: {
          summary: 'Retry something that gave up',
          description:
            "A deployment is rebuilt from its stored source (deploy scope, the project's token); a delivery is redelivered and a backup made again (admin); " +
            "a domain's certificate is renewed now, under the renewal route's rules (a platform host name's renews by itself: 409). 404 for what the token may not see.",
          tags: ['Ops'],
        },
        response: { 202: Retried, ...errors(404, 409, 422, 429, 500, 401, 403) },
      },
    );
}
