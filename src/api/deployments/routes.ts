import { Elysia, t } from 'elysia';
import type { DeploymentService } from '../../deployments/service.ts';
import type { DeploymentLogs } from '../../deployments/logs.ts';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors, Page, PageQuery } from '../schemas.ts';
import { ProjectParams } from '../projects/schema.ts';
import { Deployment, DeploymentParams, StatusFilter } from './schema.ts';
import { logEventStream, logText } from './log-stream.ts';
import { RAW_BODY_DOC } from '../docs/spec-fixes.ts';
import { readJsonBody } from '../json-body.ts';
import { IMAGE_BODY_MAX_BYTES } from '../../deployments/image-request.ts';
import type { DeploymentComparison } from '../../deployments/compare.ts';
import { Comparison, CompareQuery } from './compare-schema.ts';

/** Paths whose POST body is an upload the route streams itself. */
export const UPLOAD_PATHS = [/^\/v1\/projects\/[^/]+\/deployments\/?$/];

const UPLOAD_DESCRIPTION = `Send the app's source as the raw body (application/gzip, application/x-tar or application/zip)
or as multipart/form-data with the archive in field \`source\`. The body is streamed, hashed and normalised
into a clean build context; hostile archives are refused with 422. Answers 202 with the queued deployment.
A repeated \`Idempotency-Key\` returns the deployment it created the first time.

To deploy a prebuilt image instead, send \`application/json\` \`{"image": "registry.example.com/team/app:1.4"}\`:
the worker pulls it (with the credentials of /v1/registries for its host, by digest, within SLIPWAY_PULL_MAX_BYTES
and SLIPWAY_PULL_TIMEOUT) and rolls it out through the same health-gated swap, with the same runtime isolation.`;

const archive = { schema: { type: 'string', contentMediaType: 'application/octet-stream' } };
const UPLOAD_BODY = {
  required: true,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['image'],
        additionalProperties: false,
        properties: {
          image: {
            type: 'string',
            maxLength: 255,
            description: 'A prebuilt image: [registry/]repository[:tag][@sha256:digest]',
            examples: ['registry.example.com/team/app:1.4'],
          },
        },
      },
    },
    'application/gzip': archive,
    'application/x-tar': archive,
    'application/zip': archive,
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['source'],
        properties: { source: { type: 'string', contentMediaType: 'application/octet-stream' } },
      },
    },
  },
};

/** /v1/projects/{name}/deployments: upload, history, logs, cancel and retry. */
export function deploymentRoutes({
  deployments,
  logs,
  compareDeployments,
}: {
  deployments: DeploymentService;
  logs: DeploymentLogs;
  compareDeployments(project: string, from: string, to: string): Promise<DeploymentComparison>;
}) {
  return new Elysia({ prefix: '/projects/:name/deployments' })
    .use(accessPlugin)
    .post(
      '',
      async ({ actor, params, request, headers, set }) => {
        const key = headers['idempotency-key'] ?? null;
        const { deployment, replayed } = /^application\/json\b/i.test(headers['content-type'] ?? '')
          ? deployments.deployImage(actor, params.name, await readJsonBody(request, IMAGE_BODY_MAX_BYTES), key)
          : await deployments.upload(actor, params.name, request, key);
        set.status = 202;
        set.headers.location = `/v1/projects/${params.name}/deployments/${deployment.id}`;
        if (replayed) set.headers['idempotent-replayed'] = 'true';
        return deployment;
      },
      {
        access: { scope: 'deploy', project: 'param' },
        params: ProjectParams,
        headers: t.Object({
          'content-type': t.Optional(t.String()),
          'idempotency-key': t.Optional(t.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' })),
        }),
        detail: {
          summary: 'Upload source, or name a prebuilt image, and deploy it',
          description: UPLOAD_DESCRIPTION,
          tags: ['Deployments'],
          [RAW_BODY_DOC]: UPLOAD_BODY,
        },
        response: { 202: Deployment, ...errors(400, 404, 413, 415, 422, ...AUTH_ERRORS) },
      },
    )
    .get(
      '',
      ({ params, query }) =>
        deployments.list(params.name, { status: query.status, cursor: query.cursor, limit: query.limit ?? 50 }),
      {
        access: { scope: 'read', project: 'param' },
        params: ProjectParams,
        query: t.Object({ ...PageQuery, status: t.Optional(StatusFilter) }),
        detail: { summary: 'Deployment history', description: 'Newest first.', tags: ['Deployments'] },
        response: { 200: Page(Deployment), ...errors(404, 422, ...AUTH_ERRORS) },
      },
    )
    .get('/compare', ({ params, query }) => compareDeployments(params.name, query.from, query.to), {
      access: { scope: 'read', project: 'param' },
      params: ProjectParams,
      query: CompareQuery,
      detail: {
        summary: 'Compare two deployments',
        description:
          'Source files added, removed and changed (from the stored archives), env keys added, removed and changed ' +
          '(names only, never values), project settings and images. A part that cannot be compared (a pruned ' +
          'source, an image deployment, a deployment that never started) says why.',
        tags: ['Deployments'],
      },
      response: { 200: Comparison, ...errors(404, 422, ...AUTH_ERRORS) },
    })
    .get('/:id', ({ params }) => deployments.get(params.name, params.id), {
      access: { scope: 'read', project: 'param' },
      params: DeploymentParams,
      detail: { summary: 'Get a deployment', tags: ['Deployments'] },
      response: { 200: Deployment, ...errors(404, 422, ...AUTH_ERRORS) },
    })
    .get(
      '/:id/logs',
      ({ params, query, headers }) => {
        const row = deployments.row(params.name, params.id);
        const follow = query.follow === true || (headers.accept ?? '').includes('text/event-stream');
        if (!follow) return logText(logs, row.id);
        const resumeFrom = Number(headers['last-event-id'] ?? 0);
        return logEventStream(logs, row.id, Number.isSafeInteger(resumeFrom) && resumeFrom > 0 ? resumeFrom : 0, () =>
          deployments.rowOrNull(row.id),
        );
      },
      {
        access: { scope: 'read', project: 'param' },
        params: DeploymentParams,
        query: t.Object({
          follow: t.Optional(t.Boolean({ description: 'Stream as Server-Sent Events until the deployment ends' })),
        }),
        detail: {
          summary: 'Build and deploy log',
          description:
            'Plain text, or with `?follow=true` / `Accept: text/event-stream` Server-Sent Events: one event per line ' +
            '(`id` = sequence number; send `Last-Event-ID` to resume), then an `end` event with the final status.',
          tags: ['Deployments'],
        },
        response: {
          200: t.String({ description: 'text/plain or text/event-stream' }),
          ...errors(404, 422, ...AUTH_ERRORS),
        },
      },
    )
    .post('/:id/cancel', ({ actor, params }) => deployments.cancel(actor, params.name, params.id), {
      access: { scope: 'deploy', project: 'param' },
      params: DeploymentParams,
      detail: { summary: 'Cancel a queued or running deployment', tags: ['Deployments'] },
      response: { 200: Deployment, ...errors(404, 409, 422, ...AUTH_ERRORS) },
    })
    .post(
      '/:id/retry',
      ({ actor, params, set }) => {
        set.status = 202;
        return deployments.retry(actor, params.name, params.id);
      },
      {
        access: { scope: 'deploy', project: 'param' },
        params: DeploymentParams,
        detail: { summary: 'Rebuild from the same stored source', tags: ['Deployments'] },
        response: { 202: Deployment, ...errors(404, 409, 422, ...AUTH_ERRORS) },
      },
    );
}
