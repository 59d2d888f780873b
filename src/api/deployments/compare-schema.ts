import { t } from 'elysia';
import { Timestamp } from '../schemas.ts';

const nullable = <T extends Parameters<typeof t.Union>[0][number]>(s: T) => t.Union([s, t.Null()]);

const Side = t.Object({
  id: t.String(),
  number: t.Integer(),
  status: t.String(),
  created_at: Timestamp,
});

const Unavailable = t.Object({
  available: t.Literal(false),
  reason: t.String({ description: 'Why this part could not be compared, e.g. a pruned source' }),
});

const Names = (description: string) => t.Array(t.String(), { description });

const ImageSide = t.Object({
  ref: nullable(t.String({ description: 'The prebuilt image reference; null for builds from source' })),
  digest: nullable(t.String({ description: 'The digest a prebuilt image resolved to when pulled' })),
  tag: nullable(t.String()),
  id: nullable(t.String()),
  stack: nullable(t.String()),
  exposed_port: nullable(t.Integer()),
});

/** GET …/deployments/compare. */
export const Comparison = t.Object({
  from: Side,
  to: Side,
  source: t.Union([
    t.Object({
      available: t.Literal(true),
      added: Names('Files in `to` that `from` lacks'),
      removed: Names('Files in `from` that `to` dropped'),
      changed: Names('Files whose content, link target or executable bit changed'),
      unchanged: t.Integer({ description: 'How many files are the same' }),
    }),
    Unavailable,
  ]),
  env: t.Union([
    t.Object({
      available: t.Literal(true),
      added: Names('Keys set in `to` only'),
      removed: Names('Keys set in `from` only'),
      changed: Names('Keys whose value differs (values are never shown)'),
    }),
    Unavailable,
  ]),
  settings: t.Union([
    t.Object({
      available: t.Literal(true),
      changed: t.Array(t.Object({ name: t.String(), from: t.Unknown(), to: t.Unknown() }), {
        description: 'Project settings that differ between the two deployments as they were queued',
      }),
    }),
    Unavailable,
  ]),
  image: t.Object({
    changed: t.Boolean({ description: 'Pulled images compare by digest, built ones by image id' }),
    from: ImageSide,
    to: ImageSide,
  }),
});

/** The query of the compare route. */
export const CompareQuery = t.Object({
  from: t.String({ minLength: 1, maxLength: 64, description: 'A deployment id (dep_…) or number', examples: ['12'] }),
  to: t.String({ minLength: 1, maxLength: 64, description: 'A deployment id (dep_…) or number', examples: ['14'] }),
});
