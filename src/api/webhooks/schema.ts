import { t } from 'elysia';
import { EVENT_TYPES } from '../../events/bus.ts';
import { ProjectName, Timestamp } from '../schemas.ts';

/** An event type a webhook may ask for. */
export const EventType = t.UnionEnum([...EVENT_TYPES], {
  description:
    'deployment.queued|live|failed|canceled, domain.active|failed, certificate.renewal_failed, backup.done|failed',
});

/** A webhook as the API shows it; the secret is never listed. */
export const Webhook = t.Object({
  id: t.String({ examples: ['whk_01jd…'] }),
  url: t.String(),
  events: t.Array(t.String()),
  project: t.Union([t.String(), t.Null()], {
    description: 'Only events of this project; null: every project and agent-wide events',
  }),
  description: t.Union([t.String(), t.Null()]),
  created_at: Timestamp,
});

/** The answer to a creation: the webhook and its signing secret, shown this once. */
export const CreatedWebhook = t.Object({
  ...Webhook.properties,
  secret: t.String({ description: 'The HMAC-SHA256 signing secret (whsec_…); shown only here', examples: ['whsec_…'] }),
});

/** The body of POST /v1/webhooks. */
export const NewWebhookBody = t.Object(
  {
    url: t.String({
      minLength: 1,
      maxLength: 2048,
      description: 'http:// or https://, on a public address unless SLIPWAY_WEBHOOK_ALLOW_PRIVATE',
    }),
    events: t.Array(EventType, { minItems: 1, maxItems: EVENT_TYPES.length * 2 }),
    project: t.Optional(t.Union([ProjectName, t.Null()])),
    description: t.Optional(t.Union([t.String({ maxLength: 200 }), t.Null()])),
  },
  { additionalProperties: false },
);

/** A delivery as lists show it. */
export const Delivery = t.Object({
  id: t.String({ examples: ['whd_01jd…'] }),
  webhook_id: t.String(),
  event_id: t.String({ description: 'The same for redeliveries of one event: receivers deduplicate on it' }),
  event: t.String(),
  project: t.Union([t.String(), t.Null()]),
  status: t.UnionEnum(['pending', 'delivered', 'dead']),
  attempts: t.Integer(),
  response_code: t.Union([t.Integer(), t.Null()], {
    description: "The last attempt's HTTP status, null without a response",
  }),
  error: t.Union([t.String(), t.Null()], { description: 'Why the last attempt failed' }),
  duration_ms: t.Union([t.Integer(), t.Null()], { description: 'How long the last attempt took' }),
  next_attempt_at: t.Union([Timestamp, t.Null()]),
  give_up_at: Timestamp,
  redelivery_of: t.Union([t.String(), t.Null()]),
  created_at: Timestamp,
  finished_at: t.Union([Timestamp, t.Null()]),
});

/** A delivery with the payload sent and every attempt. */
export const DeliveryDetail = t.Object({
  ...Delivery.properties,
  payload: t.Unknown({ description: 'The JSON body sent: {id, type, created_at, project, data}' }),
  history: t.Array(
    t.Object({
      n: t.Integer(),
      at: Timestamp,
      response_code: t.Union([t.Integer(), t.Null()]),
      error: t.Union([t.String(), t.Null()]),
      duration_ms: t.Integer(),
    }),
  ),
});

/** `:id` of a webhook. */
export const WebhookParams = t.Object({ id: t.String({ maxLength: 64 }) });
/** `:id` of a webhook and `:delivery` of one of its deliveries. */
export const DeliveryParams = t.Object({ id: t.String({ maxLength: 64 }), delivery: t.String({ maxLength: 64 }) });
