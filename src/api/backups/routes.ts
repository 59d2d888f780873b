import { Elysia, t } from 'elysia';
import type { BackupService } from '../../backups/service.ts';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors, Page, PageQuery, Timestamp } from '../schemas.ts';

const Part = t.Object({ path: t.String(), bytes: t.Integer(), sha256: t.String() });
const Manifest = t.Object(
  {
    format: t.Literal(1),
    id: t.String(),
    created_at: Timestamp,
    slipway_version: t.String(),
    schema_version: t.Integer({ description: 'Migrations applied to the state inside' }),
    kdf: t.UnionEnum(['master-key', 'passphrase'], { description: 'What the backup key is derived from' }),
    projects: t.Array(
      t.Object({
        name: t.String(),
        database: t.Boolean(),
        volumes: t.Array(t.String()),
        live_deployment: t.Union([t.String(), t.Null()], {
          description: 'Rebuilt from its stored source on restore',
        }),
      }),
    ),
    parts: t.Array(Part, { description: 'Every part with its size and SHA-256, checked on verify and restore' }),
  },
  { description: 'What the backup holds; the same manifest is sealed inside the file' },
);

const Backup = t.Object({
  id: t.String({ examples: ['bak_01jd…'] }),
  trigger: t.UnionEnum(['api', 'schedule']),
  destination: t.UnionEnum(['local', 's3']),
  status: t.UnionEnum(['running', 'complete', 'failed']),
  location: t.Union([t.String(), t.Null()], {
    description: 'A file under SLIPWAY_BACKUP_DIR, or s3://bucket/key; give it to `slipway restore`',
  }),
  bytes: t.Union([t.Integer(), t.Null()]),
  sha256: t.Union([t.String(), t.Null()], { description: 'Of the whole (encrypted) file' }),
  error: t.Union([t.String(), t.Null()]),
  created_at: Timestamp,
  finished_at: t.Union([Timestamp, t.Null()]),
  manifest: t.Union([Manifest, t.Null()]),
});

const Verified = t.Object({
  id: t.String(),
  ok: t.Boolean(),
  error: t.Union([t.String(), t.Null()], { description: 'What is wrong with it, when not ok' }),
  parts: t.Integer({ description: 'Parts whose checksum matched' }),
  checked_at: Timestamp,
});

const BackupParams = t.Object({ id: t.String({ maxLength: 64 }) });

/** /v1/backups: make, list, inspect and verify backups of the whole agent. */
export function backupRoutes({ backups }: { backups: BackupService }) {
  return new Elysia({ prefix: '/backups' })
    .use(accessPlugin)
    .post(
      '',
      async ({ actor, body, set }) => {
        const made = await backups.create(actor, 'api', body?.destination);
        set.status = 201;
        return made;
      },
      {
        access: { scope: 'admin' },
        body: t.Optional(
          t.Object(
            {
              destination: t.Optional(
                t.UnionEnum(['local', 's3'], { description: 'Default: SLIPWAY_BACKUP_DESTINATION' }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        detail: {
          summary: 'Make a backup of everything now',
          description:
            "Slipway's state (an online SQLite backup), every project's database (pg_dump) and volumes, the " +
            'stored sources of live releases and a manifest with the SHA-256 of every part, in one file sealed ' +
            'with a key derived from the master key (or SLIPWAY_BACKUP_PASSPHRASE). Answers when it is written; ' +
            'then backups past SLIPWAY_BACKUP_RETENTION are pruned. 409 while another backup runs.',
          tags: ['Backups'],
        },
        response: { 201: Backup, ...errors(409, 415, 422, ...AUTH_ERRORS) },
      },
    )
    .get('', ({ query }) => backups.list({ cursor: query.cursor, limit: query.limit ?? 50 }), {
      access: { scope: 'admin' },
      query: t.Object(PageQuery),
      detail: { summary: 'List backups, newest first', tags: ['Backups'] },
      response: { 200: Page(Backup), ...errors(400, 422, ...AUTH_ERRORS) },
    })
    .get('/:id', ({ params }) => backups.get(params.id), {
      access: { scope: 'admin' },
      params: BackupParams,
      detail: { summary: 'Get a backup and its manifest', tags: ['Backups'] },
      response: { 200: Backup, ...errors(404, 422, ...AUTH_ERRORS) },
    })
    .post('/:id/verify', ({ actor, params }) => backups.verify(actor, params.id), {
      access: { scope: 'admin' },
      params: BackupParams,
      detail: {
        summary: 'Verify a backup',
        description:
          'Reads it back from its destination, checks every part against the manifest and restores the state ' +
          'into a temporary directory to check it opens; `ok` says whether it would restore.',
        tags: ['Backups'],
      },
      response: { 200: Verified, ...errors(404, 409, 422, ...AUTH_ERRORS) },
    });
}
