/** Webhooks and deliveries as the API shows them: built field by field, never the secret. */
import type { AttemptRow, DeliveryRow, WebhookWithProject } from '../db/webhooks.ts';

/** A webhook as the API shows it. */
export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  project: string | null;
  description: string | null;
  created_at: string;
}

/** A delivery as lists show it. */
export interface DeliveryView {
  id: string;
  webhook_id: string;
  event_id: string;
  event: string;
  project: string | null;
  status: Exclude<DeliveryRow['status'], 'sending'>;
  attempts: number;
  response_code: number | null;
  error: string | null;
  duration_ms: number | null;
  next_attempt_at: string | null;
  give_up_at: string;
  redelivery_of: string | null;
  created_at: string;
  finished_at: string | null;
}

/** One delivery with its payload and every attempt. */
export interface DeliveryDetail extends DeliveryView {
  payload: unknown;
  history: { n: number; at: string; response_code: number | null; error: string | null; duration_ms: number }[];
}

/** The API view of a webhook row. */
export function webhookView(row: WebhookWithProject): WebhookView {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    project: row.project,
    description: row.description,
    created_at: row.created_at,
  };
}

/** The API view of a delivery row. */
export function deliveryView(row: DeliveryRow): DeliveryView {
  return {
    id: row.id,
    webhook_id: row.webhook_id,
    event_id: row.event_id,
    event: row.event_type,
    project: row.project,
    // A claim is an attempt in flight: still pending to the outside.
    status: row.status === 'sending' ? 'pending' : row.status,
    attempts: row.attempts,
    response_code: row.last_status_code,
    error: row.last_error,
    duration_ms: row.last_duration_ms,
    next_attempt_at: row.status === 'pending' || row.status === 'sending' ? row.next_attempt_at : null,
    give_up_at: row.give_up_at,
    redelivery_of: row.redelivery_of,
    created_at: row.created_at,
    finished_at: row.finished_at,
  };
}

/** The detailed view: the payload sent and the attempts made. */
export function deliveryDetail(row: DeliveryRow, attempts: AttemptRow[]): DeliveryDetail {
  return {
    ...deliveryView(row),
    payload: JSON.parse(row.body),
    history: attempts.map((a) => ({
      n: a.n,
      at: a.at,
      response_code: a.status_code,
      error: a.error,
      duration_ms: a.duration_ms,
    })),
  };
}
