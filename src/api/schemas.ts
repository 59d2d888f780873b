import { t, type TSchema } from 'elysia';

/** An ISO 8601 UTC timestamp. */
export const Timestamp = t.String({ format: 'date-time', examples: ['2026-11-24T10:30:00.000Z'] });

/** A project name: a DNS label. */
export const ProjectName = t.String({
  pattern: '^[a-z][a-z0-9-]{0,62}$',
  description: 'A DNS label: lower-case letters, digits and dashes, starting with a letter, at most 63 characters',
  examples: ['web'],
});

/** The one error envelope of every failed request. */
export const ErrorEnvelope = t.Object(
  {
    error: t.Object({
      code: t.String({ examples: ['not_found'] }),
      message: t.String(),
      request_id: t.String(),
      issues: t.Optional(t.Array(t.Object({ path: t.String(), message: t.String() }))),
    }),
  },
  { $id: '#/components/schemas/Error', title: 'Error' },
);

/** `limit` and `cursor` of every list. */
export const PageQuery = {
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 50, description: 'Page size, 1 to 100' })),
  cursor: t.Optional(t.String({ maxLength: 512, description: 'next_cursor of the previous page' })),
};

/** A keyset-paginated list of `item`. */
export function Page<T extends TSchema>(item: T) {
  return t.Object({
    data: t.Array(item),
    pagination: t.Object({ next_cursor: t.Union([t.String(), t.Null()]), has_more: t.Boolean() }),
  });
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request',
  401: 'Missing or invalid token',
  403: 'The token may not do this',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflicts with the current state',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Validation failed',
  429: 'Rate limited',
  500: 'Internal error',
  503: 'A dependency is unavailable',
};

/** Response schemas for the given error statuses, for a route's `response` option. */
export function errors<S extends number>(...statuses: S[]): Record<S, typeof ErrorEnvelope> {
  return Object.fromEntries(
    statuses.map((s) => [s, t.Object(ErrorEnvelope.properties, { description: ERROR_DESCRIPTIONS[s] ?? 'Error' })]),
  ) as Record<S, typeof ErrorEnvelope>;
}

/** The error statuses any authenticated route can answer with. */
export const AUTH_ERRORS = [401, 403, 429, 500] as const;
