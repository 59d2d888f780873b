import { t } from 'elysia';
import { ProjectName, Timestamp } from '../schemas.ts';

const nullable = <T extends Parameters<typeof t.Union>[0][number]>(s: T) => t.Union([s, t.Null()]);

/** A deployment and its build. */
export const Deployment = t.Object({
  id: t.String({ examples: ['dep_01jd5x9k2m0000000000000000'] }),
  project: t.String(),
  number: t.Integer({ description: 'Counts 1, 2, 3… per project' }),
  status: t.UnionEnum(['queued', 'building', 'deploying', 'live', 'failed', 'canceled', 'replaced'], {
    description:
      'queued → building → deploying → live, ending failed or canceled; live becomes replaced when a newer one goes live',
  }),
  trigger: t.UnionEnum(['upload', 'retry', 'rollback', 'env', 'restart', 'scale']),
  retry_of: nullable(t.String()),
  rollback_of: nullable(t.String()),
  source: nullable(
    t.Object({
      sha256: t.String(),
      bytes: t.Integer(),
      format: t.String({ examples: ['tar.gz'] }),
      kept: t.Boolean({ description: 'False once pruned (SLIPWAY_SOURCE_RETENTION): it can no longer be retried' }),
    }),
  ),
  stack: nullable(t.String({ examples: ['node'] })),
  image: nullable(t.Object({ id: nullable(t.String()), tag: t.String() })),
  image_ref: nullable(
    t.String({
      description:
        'The prebuilt image this deployment pulls (registry host made explicit); null for builds from source',
      examples: ['registry.example.com/team/app:1.4'],
    }),
  ),
  exposed_port: nullable(t.Integer()),
  build_duration_ms: nullable(t.Integer()),
  failure_reason: nullable(t.String()),
  created_at: Timestamp,
  started_at: nullable(Timestamp),
  finished_at: nullable(Timestamp),
  updated_at: Timestamp,
});

/** A queued rollback: the deployment, and what it changes that the caller should know. */
export const Rollback = t.Composite([
  Deployment,
  t.Object({
    warnings: t.Array(t.String(), {
      description:
        'Env keys the rollback changes back, adds or removes (names only, never values): a secret rotated since ' +
        'the release would come back. Also in the deployment log and the activity row',
    }),
  }),
]);

/** `?status=` of the history. A union of literals: Elysia fills an optional UnionEnum query with its first value. */
export const StatusFilter = t.Union(
  ['queued', 'building', 'deploying', 'live', 'failed', 'canceled', 'replaced'].map((s) => t.Literal(s)),
  { description: 'Only deployments in this status, e.g. failed' },
);

/** `{name}` and `{id}` of one deployment. */
export const DeploymentParams = t.Object({ name: ProjectName, id: t.String({ maxLength: 64 }) });
