import { Elysia, t } from 'elysia';
import type { ProjectService } from '../../projects/service.ts';
import type { ProjectTeardown } from '../../projects/teardown.ts';
import { accessPlugin, visibleProjects } from '../access.ts';
import { AUTH_ERRORS, errors, Page, PageQuery } from '../schemas.ts';
import { CreateProjectBody, Project, ProjectParams, QuotaBody, UpdateProjectBody } from './schema.ts';

/** /v1/projects: create, list, inspect, change and delete projects. */
export function projectRoutes({ projects, teardown }: { projects: ProjectService; teardown: ProjectTeardown }) {
  return new Elysia({ prefix: '/projects' })
    .use(accessPlugin)
    .post(
      '',
      ({ actor, body, set }) => {
        set.status = 201;
        return projects.create(actor, body);
      },
      {
        access: { scope: 'deploy', project: 'body' },
        body: CreateProjectBody,
        detail: { summary: 'Create a project', tags: ['Projects'] },
        response: { 201: Project, ...errors(400, 409, 415, 422, ...AUTH_ERRORS) },
      },
    )
    .get(
      '',
      ({ principal, query }) =>
        projects.list({
          prefix: query.prefix,
          cursor: query.cursor,
          limit: query.limit ?? 50,
          only: visibleProjects(principal),
        }),
      {
        access: { scope: 'read', project: 'filter' },
        query: t.Object({
          ...PageQuery,
          prefix: t.Optional(t.String({ maxLength: 63, description: 'Only names starting with this' })),
        }),
        detail: { summary: 'List projects', description: 'Ordered by name.', tags: ['Projects'] },
        response: { 200: Page(Project), ...errors(422, ...AUTH_ERRORS) },
      },
    )
    .get('/:name', ({ params }) => projects.get(params.name), {
      access: { scope: 'read', project: 'param' },
      params: ProjectParams,
      detail: { summary: 'Get a project', tags: ['Projects'] },
      response: { 200: Project, ...errors(404, 422, ...AUTH_ERRORS) },
    })
    .patch('/:name', ({ actor, params, body }) => projects.update(actor, params.name, body), {
      access: { scope: 'deploy', project: 'param' },
      params: ProjectParams,
      body: UpdateProjectBody,
      detail: { summary: "Change a project's settings", tags: ['Projects'] },
      response: { 200: Project, ...errors(400, 404, 415, 422, ...AUTH_ERRORS) },
    })
    .delete(
      '/:name',
      async ({ actor, params, query, set }) => {
        await teardown(actor, params.name, query.confirm);
        set.status = 204;
      },
      {
        access: { scope: 'admin', project: 'param' },
        params: ProjectParams,
        query: t.Object({
          confirm: t.Optional(
            t.String({ maxLength: 63, description: 'The project name; required when it has a database or volumes' }),
          ),
        }),
        detail: {
          summary: 'Delete a project',
          description:
            'Stops routing it, aborts running work, removes its containers, images, database, volumes, network and stored sources.',
          tags: ['Projects'],
        },
        response: { 204: t.Void({ description: 'Deleted' }), ...errors(404, 409, 422, ...AUTH_ERRORS) },
      },
    )
    .put('/:name/quota', ({ actor, params, body }) => projects.setQuota(actor, params.name, body), {
      access: { scope: 'admin', project: 'param' },
      params: ProjectParams,
      body: QuotaBody,
      detail: {
        summary: "Set a project's quota",
        description:
          'The most instances, memory and CPUs (in all) the project may use. Deploy tokens change its size only ' +
          'within it (422 past it); lowering it below what the project uses answers 409.',
        tags: ['Projects'],
      },
      response: { 200: Project, ...errors(400, 404, 409, 415, 422, ...AUTH_ERRORS) },
    });
}
