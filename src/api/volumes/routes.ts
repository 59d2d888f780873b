import { Elysia, t } from 'elysia';
import { Readable } from 'node:stream';
import type { VolumeService } from '../../volumes/service.ts';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors, ProjectName } from '../schemas.ts';
import { RAW_BODY_DOC } from '../docs/spec-fixes.ts';

/** Paths whose PUT body is a raw archive the route streams itself. */
export const VOLUME_RESTORE_PATHS = [/^\/v1\/projects\/[^/]+\/volumes\/[^/]+\/archive\/?$/];

const VolumeName = t.String({ pattern: '^[a-z][a-z0-9-]{0,62}$', description: "The volume's name in the setting" });
const VolumeParams = t.Object({ name: ProjectName, volume: VolumeName });

const Volume = t.Object({
  name: VolumeName,
  mount_path: t.Union([t.String(), t.Null()], {
    description: 'Where instances mount it; null once taken out of the volumes setting (its data is kept)',
  }),
  created: t.Boolean({ description: 'Whether it exists yet: a volume is created when the first instance needs it' }),
  docker_volume: t.Union([t.String(), t.Null()], { description: 'The Docker volume holding the data' }),
  size_bytes: t.Union([t.Integer(), t.Null()], {
    description: 'What it holds, as last measured (in the background, at most once a minute); null before',
  }),
  measured_at: t.Union([t.String({ format: 'date-time' }), t.Null()]),
  size_limit_bytes: t.Union([t.Integer(), t.Null()], {
    description:
      "The size limit the engine enforces (the project's quota.volume_mb when the volume was created, on engines " +
      'whose data root is xfs with project quotas); null: not enforced',
  }),
  created_at: t.Union([t.String({ format: 'date-time' }), t.Null()]),
});

const ARCHIVE_BODY = {
  required: true,
  content: {
    'application/x-tar': { schema: { type: 'string', contentMediaType: 'application/x-tar' } },
    'application/gzip': { schema: { type: 'string', contentMediaType: 'application/gzip' } },
  },
};

/** /v1/projects/{name}/volumes: list, download, restore and delete a project's volumes. */
export function volumeRoutes({ volumes }: { volumes: VolumeService }) {
  return new Elysia({ prefix: '/projects/:name/volumes' })
    .use(accessPlugin)
    .get(
      '',
      ({ params }) => ({ data: volumes.list(params.name), pagination: { next_cursor: null, has_more: false } }),
      {
        access: { scope: 'read', project: 'param' },
        params: t.Object({ name: ProjectName }),
        detail: {
          summary: "List a project's volumes",
          description:
            'Those in the volumes setting, in its order, then those taken out of it whose data is kept, by name. ' +
            'A project has at most 10, so this list is never paginated.',
          tags: ['Volumes'],
        },
        response: {
          200: t.Object({
            data: t.Array(Volume),
            pagination: t.Object({ next_cursor: t.Null(), has_more: t.Boolean() }),
          }),
          ...errors(404, 422, ...AUTH_ERRORS),
        },
      },
    )
    .get(
      '/:volume/archive',
      async ({ actor, params }) => {
        const tar = await volumes.download(actor, params.name, params.volume);
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        return new Response(Readable.toWeb(tar) as ReadableStream, {
          headers: {
            'content-type': 'application/x-tar',
            'content-disposition': `attachment; filename="${params.name}-${params.volume}-${stamp}.tar"`,
          },
        });
      },
      {
        access: { scope: 'admin', project: 'param' },
        params: VolumeParams,
        detail: {
          summary: "Download a volume's content as a tar",
          description:
            'Streamed as the engine reads the files, entries `./` and `./<path>` with numeric owners. The app keeps ' +
            'running, so files it writes meanwhile may be caught half-written; stop it first for a consistent copy.',
          tags: ['Volumes'],
        },
        response: {
          200: t.String({ description: 'application/x-tar' }),
          ...errors(404, 422, ...AUTH_ERRORS),
        },
      },
    )
    .put(
      '/:volume/archive',
      ({ actor, params, request }) => volumes.restore(actor, params.name, params.volume, request),
      {
        access: { scope: 'admin', project: 'param' },
        params: VolumeParams,
        detail: {
          summary: "Replace a volume's content with a tar",
          description:
            'The body is a tar or tar.gz (as the download gives), at most SLIPWAY_MAX_UPLOAD_BYTES, expanding to at ' +
            "most the project's quota.volume_mb (else SLIPWAY_MAX_EXPANDED_BYTES). Entries escaping the root, " +
            'symlinks out of it, entries inside symlinks, devices and FIFOs are refused with 422 and change nothing. ' +
            'The archive fills a new Docker volume while the app runs; the app is then stopped, the new volume takes ' +
            'the old one’s place, and the app starts again. Owners are kept; setuid and setgid bits are cleared.',
          tags: ['Volumes'],
          [RAW_BODY_DOC]: ARCHIVE_BODY,
        },
        response: { 200: Volume, ...errors(400, 404, 413, 415, 422, ...AUTH_ERRORS) },
      },
    )
    .delete(
      '/:volume',
      async ({ actor, params, query, set }) => {
        await volumes.remove(actor, params.name, params.volume, query.confirm);
        set.status = 204;
      },
      {
        access: { scope: 'admin', project: 'param' },
        params: VolumeParams,
        query: t.Object({
          confirm: t.Optional(t.String({ maxLength: 63, description: 'The volume name, to confirm' })),
        }),
        detail: {
          summary: 'Delete a volume and its data',
          description:
            'Only a volume taken out of the volumes setting (409 otherwise), and only with ?confirm={volume} (422).',
          tags: ['Volumes'],
        },
        response: { 204: t.Void({ description: 'Deleted' }), ...errors(404, 409, 422, ...AUTH_ERRORS) },
      },
    );
}
