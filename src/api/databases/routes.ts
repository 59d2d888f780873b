import { Elysia, t } from 'elysia';
import { Readable } from 'node:stream';
import type { DatabaseService } from '../../databases/service.ts';
import { BadRequestError } from '../../errors.ts';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors, ProjectName } from '../schemas.ts';
import { ProjectParams } from '../projects/schema.ts';
import { Deployment } from '../deployments/schema.ts';
import { RAW_BODY_DOC } from '../docs/spec-fixes.ts';

/** Paths whose POST body is a raw dump the route streams itself. */
export const RESTORE_PATHS = [/^\/v1\/projects\/[^/]+\/database\/restore\/?$/];

const Database = t.Object({
  status: t.UnionEnum(['starting', 'running', 'stopped', 'missing']),
  image: t.String(),
  version: t.Union([t.String(), t.Null()]),
  size_bytes: t.Union([t.Integer(), t.Null()], { description: 'Size of the database on disk' }),
  connection: t.Object({
    host: t.String(),
    port: t.Integer(),
    database: t.String(),
    user: t.String(),
    password: t.String({ description: 'Always masked' }),
  }),
  url: t.String({ description: 'DATABASE_URL with the password masked; the app gets the real one' }),
  created_at: t.String({ format: 'date-time' }),
  warnings: t.Array(t.String(), {
    description:
      "What to fix, such as an app role that is still the database's superuser (databases made by earlier versions)",
  }),
});
const Created = t.Object({ database: Database, deployment: t.Union([Deployment, t.Null()]) });
const DUMP_BODY = {
  required: true,
  content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
};

/** /v1/projects/{name}/database: a Postgres per project. */
export function databaseRoutes({ databases }: { databases: DatabaseService }) {
  return new Elysia({ prefix: '/projects/:name/database' })
    .use(accessPlugin)
    .post(
      '',
      async ({ actor, params, set }) => {
        set.status = 201;
        return databases.create(actor, params.name);
      },
      {
        access: { scope: 'deploy', project: 'param' },
        params: ProjectParams,
        detail: {
          summary: 'Provision a Postgres',
          description:
            'Its own container and volume on the project network only; DATABASE_URL is injected and the live app rolled out.',
          tags: ['Database'],
        },
        response: { 201: Created, ...errors(404, 409, 422, ...AUTH_ERRORS) },
      },
    )
    .get('', ({ params }) => databases.get(params.name), {
      access: { scope: 'read', project: 'param' },
      params: ProjectParams,
      detail: { summary: 'Database status', tags: ['Database'] },
      response: { 200: Database, ...errors(404, 422, ...AUTH_ERRORS) },
    })
    .delete(
      '',
      async ({ actor, params, query }) => ({ deployment: await databases.remove(actor, params.name, query.confirm) }),
      {
        access: { scope: 'admin', project: 'param' },
        params: ProjectParams,
        query: t.Object({
          confirm: t.Optional(t.String({ maxLength: 63, description: 'The project name, to confirm' })),
        }),
        detail: {
          summary: 'Drop the database and its volume',
          description: 'Needs ?confirm={name}. DATABASE_URL is removed and the app rolled out.',
          tags: ['Database'],
        },
        response: {
          200: t.Object({ deployment: t.Union([Deployment, t.Null()]) }),
          ...errors(404, 422, ...AUTH_ERRORS),
        },
      },
    )
    .get(
      '/dump',
      async ({ actor, params }) => {
        const dump = await databases.dump(actor, params.name);
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        return new Response(Readable.toWeb(dump) as ReadableStream, {
          headers: {
            'content-type': 'application/octet-stream',
            'content-disposition': `attachment; filename="${params.name}-${stamp}.dump"`,
          },
        });
      },
      {
        access: { scope: 'admin', project: 'param' },
        params: t.Object({ name: ProjectName }),
        detail: {
          summary: 'Download a pg_dump (custom format)',
          description: 'Restore it with POST …/database/restore or pg_restore.',
          tags: ['Database'],
        },
        response: { 200: t.String({ description: 'application/octet-stream' }), ...errors(404, 422, ...AUTH_ERRORS) },
      },
    )
    .post(
      '/restore',
      async ({ actor, params, request, set }) => {
        if (!request.body) throw new BadRequestError('The request has no body: send a pg_dump custom-format file');
        await databases.restore(actor, params.name, Readable.fromWeb(request.body as never));
        set.status = 204;
      },
      {
        access: { scope: 'admin', project: 'param' },
        params: ProjectParams,
        detail: {
          summary: 'Restore a pg_dump',
          description: 'Replaces the objects the dump contains (pg_restore --clean --if-exists).',
          tags: ['Database'],
          [RAW_BODY_DOC]: DUMP_BODY,
        },
        response: { 204: t.Void({ description: 'Restored' }), ...errors(400, 404, 422, ...AUTH_ERRORS) },
      },
    );
}
