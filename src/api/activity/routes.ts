import { Elysia, t } from 'elysia';
import type { ActivityService } from '../../activity/service.ts';
import { accessPlugin, visibleProjects } from '../access.ts';
import { AUTH_ERRORS, errors, Page, PageQuery, Timestamp } from '../schemas.ts';

const Activity = t.Object({
  id: t.String(),
  created_at: Timestamp,
  action: t.String({ examples: ['project.create'] }),
  target_type: t.String(),
  target: t.String(),
  project: t.Union([t.String(), t.Null()]),
  token: t.Object({ id: t.Union([t.String(), t.Null()]), name: t.Union([t.String(), t.Null()]) }),
  request_id: t.Union([t.String(), t.Null()]),
  client_ip: t.Union([t.String(), t.Null()]),
  changes: t.Record(t.String(), t.Unknown()),
});

/** GET /v1/activity: the append-only audit log, newest first. */
export function activityRoutes({ activity }: { activity: ActivityService }) {
  return new Elysia().use(accessPlugin).get(
    '/activity',
    ({ principal, query }) =>
      activity.list({
        project: query.project,
        token_id: query.token_id,
        action: query.action,
        cursor: query.cursor,
        limit: query.limit ?? 50,
        only: visibleProjects(principal),
      }),
    {
      access: { scope: 'read', project: 'filter' },
      query: t.Object({
        ...PageQuery,
        project: t.Optional(t.String({ maxLength: 63 })),
        token_id: t.Optional(t.String({ maxLength: 64 })),
        action: t.Optional(
          t.String({ maxLength: 64, description: 'An action such as project.create, or a prefix such as project' }),
        ),
      }),
      detail: { summary: 'The activity log', tags: ['Activity'] },
      response: { 200: Page(Activity), ...errors(422, ...AUTH_ERRORS) },
    },
  );
}
