import type { Db } from './open.ts';

/** A row of the webhooks table; `events` is a JSON array, `secret_sealed` the sealed signing secret. */
export interface WebhookRow {
  id: string;
  url: string;
  events: string;
  project_id: string | null;
  description: string | null;
  secret_sealed: string;
  created_at: string;
}

/** A webhook with its project's name (null: every project). */
export type WebhookWithProject = WebhookRow & { project: string | null };

/** Where a delivery stands. */
export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'dead';

/** A row of the webhook_deliveries table. */
export interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  project: string | null;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  give_up_at: string;
  last_status_code: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
  redelivery_of: string | null;
  created_at: string;
  finished_at: string | null;
}

/** A row of the webhook_attempts table. */
export interface AttemptRow {
  delivery_id: string;
  n: number;
  at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** What one attempt found, and what the delivery becomes. */
export interface AttemptOutcome {
  at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  status: 'pending' | 'delivered' | 'dead';
  next_attempt_at: string | null;
}

const WITH_PROJECT = 'SELECT w.*, p.name AS project FROM webhooks w LEFT JOIN projects p ON p.id = w.project_id';

/** Statements on the webhooks, webhook_deliveries and webhook_attempts tables, prepared once. */
export function webhookRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO webhooks (id, url, events, project_id, description, secret_sealed, created_at)
     VALUES (@id, @url, @events, @project_id, @description, @secret_sealed, @created_at)`,
  );
  const find = db.prepare(`${WITH_PROJECT} WHERE w.id = ?`);
  const list = db.prepare(`${WITH_PROJECT} WHERE w.id < ? ORDER BY w.id DESC LIMIT ?`);
  const listFor = db.prepare(
    `${WITH_PROJECT} WHERE (w.project_id IS NULL OR p.name = @project)
       AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = @type)`,
  );
  const remove = db.prepare('DELETE FROM webhooks WHERE id = ?');
  const insertDelivery = db.prepare(
    `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, project, body, status, attempts,
       next_attempt_at, give_up_at, redelivery_of, created_at)
     VALUES (@id, @webhook_id, @event_id, @event_type, @project, @body, 'pending', 0, @next_attempt_at, @give_up_at,
       @redelivery_of, @created_at)`,
  );
  const delivery = db.prepare('SELECT * FROM webhook_deliveries WHERE id = ? AND webhook_id = ?');
  const anyDelivery = db.prepare('SELECT * FROM webhook_deliveries WHERE id = ?');
  const deliveries = db.prepare(
    'SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND id < ? ORDER BY id DESC LIMIT ?',
  );
  const due = db.prepare(
    "SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
  );
  const nextDue = db.prepare("SELECT min(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'");
  const claim = db.prepare("UPDATE webhook_deliveries SET status = 'sending' WHERE id = ? AND status = 'pending'");
  const release = db.prepare("UPDATE webhook_deliveries SET status = 'pending' WHERE status = 'sending'");
  const finish = db.prepare(
    `UPDATE webhook_deliveries SET status = @status, attempts = attempts + 1, next_attempt_at = @next_attempt_at,
       last_status_code = @status_code, last_error = @error, last_duration_ms = @duration_ms,
       finished_at = CASE WHEN @status = 'pending' THEN NULL ELSE @at END
     WHERE id = @id AND status = 'sending'`,
  );
  const insertAttempt = db.prepare(
    `INSERT INTO webhook_attempts (delivery_id, n, at, status_code, error, duration_ms)
     VALUES (@id, (SELECT coalesce(max(n), 0) + 1 FROM webhook_attempts WHERE delivery_id = @id), @at, @status_code,
       @error, @duration_ms)`,
  );
  const attempts = db.prepare('SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY n');
  const prune = db.prepare("DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'dead') AND finished_at < ?");
  const finishAttempt = db.transaction((id: string, o: AttemptOutcome): boolean => {
    const changed = finish.run({ id, ...o }).changes > 0;
    if (changed)
      insertAttempt.run({ id, at: o.at, status_code: o.status_code, error: o.error, duration_ms: o.duration_ms });
    return changed;
  });
  return {
    insert: (row: WebhookRow) => void insert.run(row),
    find: (id: string) => find.get(id) as WebhookWithProject | undefined,
    /** Newest first, ids before `before`. */
    list: (before: string, limit: number) => list.all(before, limit) as WebhookWithProject[],
    /** The webhooks that want events of `type` about `project` (null: agent-wide events reach unfiltered ones only). */
    subscribedTo: (type: string, project: string | null) => listFor.all({ type, project }) as WebhookWithProject[],
    remove: (id: string) => remove.run(id).changes > 0,
    deliveries: {
      insert: (row: {
        id: string;
        webhook_id: string;
        event_id: string;
        event_type: string;
        project: string | null;
        body: string;
        next_attempt_at: string;
        give_up_at: string;
        redelivery_of: string | null;
        created_at: string;
      }) => void insertDelivery.run(row),
      find: (webhookId: string, id: string) => delivery.get(id, webhookId) as DeliveryRow | undefined,
      findAny: (id: string) => anyDelivery.get(id) as DeliveryRow | undefined,
      /** A webhook's deliveries, newest first, ids before `before`. */
      list: (webhookId: string, before: string, limit: number) =>
        deliveries.all(webhookId, before, limit) as DeliveryRow[],
      /** Pending deliveries whose time has come at `now`, the longest waiting first. */
      due: (now: string, limit: number) => due.all(now, limit) as DeliveryRow[],
      /** When the next pending delivery is due, or null. */
      nextDueAt: () => (nextDue.get() as { at: string | null }).at,
      /** pending → sending; false when another claim won or it is no longer pending. */
      claim: (id: string) => claim.run(id).changes > 0,
      /** Puts deliveries a stopped process was sending back in the queue. */
      releaseClaims: () => release.run().changes,
      /** Records an attempt and the delivery's new state, only while it is claimed. */
      finishAttempt: (id: string, outcome: AttemptOutcome): boolean => finishAttempt(id, outcome),
      attempts: (id: string) => attempts.all(id) as AttemptRow[],
      /** Deletes ended deliveries that finished before `before`; returns how many. */
      prune: (before: string) => prune.run(before).changes,
    },
  };
}

/** The webhooks repository. */
export type WebhookRepo = ReturnType<typeof webhookRepo>;
