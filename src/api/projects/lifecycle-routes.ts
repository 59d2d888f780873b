import { Elysia, t } from 'elysia';
import type { ProjectService } from '../../projects/service.ts';
import type { ReleaseService } from '../../release/service.ts';
import type { DeploymentService } from '../../deployments/service.ts';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors } from '../schemas.ts';
import { Rollback } from '../deployments/schema.ts';
import { Project, ProjectParams } from './schema.ts';

const SWAP =
  'New instances must pass their health check before traffic moves; the old ones drain, then stop. If they cannot start or never turn healthy, the answer is 409 and the running instances stay as they were.';

/** POST /v1/projects/{name}/stop, start, restart, scale and rollback. */
export function lifecycleRoutes(d: {
  projects: ProjectService;
  releases: ReleaseService;
  deployments: DeploymentService;
}) {
  const view = async (name: string, op: Promise<unknown>) => {
    await op;
    return d.projects.get(name);
  };
  // 409: new instances the engine refused or that never turned healthy (the live ones keep running);
  // 503: the engine out of reach.
  const common = { params: ProjectParams, response: { 200: Project, ...errors(404, 409, 422, 503, ...AUTH_ERRORS) } };
  return new Elysia({ prefix: '/projects/:name' })
    .use(accessPlugin)
    .post('/stop', ({ actor, params }) => view(params.name, d.releases.stop(actor, params.name)), {
      ...common,
      access: { scope: 'deploy', project: 'param' },
      detail: {
        summary: 'Stop the live release',
        description: 'The edge answers 503 until the project is started again.',
        tags: ['Lifecycle'],
      },
    })
    .post('/start', ({ actor, params }) => view(params.name, d.releases.start(actor, params.name)), {
      ...common,
      access: { scope: 'deploy', project: 'param' },
      detail: { summary: 'Start the live release again', description: SWAP, tags: ['Lifecycle'] },
    })
    .post('/restart', ({ actor, params }) => view(params.name, d.releases.restart(actor, params.name)), {
      ...common,
      access: { scope: 'deploy', project: 'param' },
      detail: { summary: 'Restart every instance without downtime', description: SWAP, tags: ['Lifecycle'] },
    })
    .post(
      '/scale',
      ({ actor, params, body }) => view(params.name, d.releases.scale(actor, params.name, body.instances)),
      {
        ...common,
        access: { scope: 'deploy', project: 'param' },
        body: t.Object({ instances: t.Integer({ minimum: 1, maximum: 20 }) }, { additionalProperties: false }),
        detail: { summary: 'Set the number of instances', description: SWAP, tags: ['Lifecycle'] },
      },
    )
    .post(
      '/rollback',
      async ({ actor, params, body, set }) => {
        set.status = 202;
        return d.deployments.rollback(actor, params.name, body?.deployment_id ?? null);
      },
      {
        access: { scope: 'deploy', project: 'param' },
        params: ProjectParams,
        body: t.Optional(
          t.Object({ deployment_id: t.Optional(t.String({ maxLength: 64 })) }, { additionalProperties: false }),
        ),
        detail: {
          summary: 'Make an earlier release live again',
          description: `Queues a deployment with the image of \`deployment_id\` (default: the release live before the current one); no rebuild. ${SWAP}`,
          tags: ['Lifecycle'],
        },
        response: { 202: Rollback, ...errors(404, 409, 415, 422, ...AUTH_ERRORS) },
      },
    );
}
