import { Elysia, t } from 'elysia';
import type { EnvService } from '../../env/service.ts';
import type { DeploymentService } from '../../deployments/service.ts';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors, Timestamp } from '../schemas.ts';
import { ProjectParams } from '../projects/schema.ts';
import { ProjectName } from '../schemas.ts';
import { Deployment } from '../deployments/schema.ts';
import type { DeploymentView } from '../../deployments/view.ts';

const EnvVar = t.Object({
  key: t.String(),
  value: t.String({ description: 'Masked as •••••• unless ?reveal=true (admin scope, recorded in the activity log)' }),
  managed_by: t.Union([t.String(), t.Null()], { description: '"database" for DATABASE_URL; null for your own vars' }),
  created_at: Timestamp,
  updated_at: Timestamp,
});
const EnvList = t.Object({
  data: t.Array(EnvVar),
  pagination: t.Object({ next_cursor: t.Null(), has_more: t.Boolean() }),
  deployment: t.Optional(t.Union([Deployment, t.Null()], { description: 'The rollout the change queued, if any' })),
});
const Restart = t.Object({
  restart: t.Optional(t.Boolean({ description: 'false: store without rolling out a new release', default: true })),
});
const ROLLOUT =
  'A live project rolls out a new release with the same image and the new env, through the zero-downtime swap (a deployment with trigger env), unless ?restart=false.';

/** /v1/projects/{name}/env: secrets, encrypted at rest. */
export function envRoutes(d: { env: EnvService; deployments: DeploymentService }) {
  const page = (data: ReturnType<EnvService['list']>, deployment?: DeploymentView | null) => ({
    data,
    pagination: { next_cursor: null, has_more: false },
    ...(deployment === undefined ? {} : { deployment }),
  });
  const change = (
    actor: Parameters<EnvService['update']>[0],
    name: string,
    vars: Record<string, string | null>,
    restart: boolean | undefined,
  ) => {
    const { changed } = d.env.update(actor, name, vars);
    const deployment = changed && restart !== false ? d.deployments.redeploy(actor, name, 'env') : null;
    return page(d.env.list(actor, name, false), deployment);
  };
  return new Elysia({ prefix: '/projects/:name/env' })
    .use(accessPlugin)
    .get('', ({ actor, params, query }) => page(d.env.list(actor, params.name, query.reveal === true)), {
      access: { scope: 'read', project: 'param', elevated: { query: 'reveal', scope: 'admin' } },
      params: ProjectParams,
      query: t.Object({ reveal: t.Optional(t.Boolean({ description: 'Show the values (admin scope)' })) }),
      detail: { summary: 'List env vars', description: 'Keys with masked values and timestamps.', tags: ['Env'] },
      response: { 200: EnvList, ...errors(404, 422, ...AUTH_ERRORS) },
    })
    .patch('', ({ actor, params, body, query }) => change(actor, params.name, body.vars, query.restart), {
      access: { scope: 'deploy', project: 'param' },
      params: ProjectParams,
      query: Restart,
      body: t.Object(
        {
          vars: t.Record(t.String(), t.Union([t.String(), t.Null()]), {
            description: '"KEY": "value" sets, "KEY": null unsets; all at once',
          }),
        },
        { additionalProperties: false },
      ),
      detail: {
        summary: 'Set and unset env vars',
        description: `Values are stored literally (no interpolation). ${ROLLOUT}`,
        tags: ['Env'],
      },
      response: { 200: EnvList, ...errors(400, 404, 415, 422, ...AUTH_ERRORS) },
    })
    .delete('/:key', ({ actor, params, query }) => change(actor, params.name, { [params.key]: null }, query.restart), {
      access: { scope: 'deploy', project: 'param' },
      params: t.Object({ name: ProjectName, key: t.String({ maxLength: 256 }) }),
      query: Restart,
      detail: { summary: 'Remove one env var', description: ROLLOUT, tags: ['Env'] },
      response: { 200: EnvList, ...errors(404, 422, ...AUTH_ERRORS) },
    });
}
