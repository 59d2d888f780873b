/**
 * Webhooks: register a URL for some events (admin), list and remove them, see their deliveries and
 * redeliver one. The bus subscriber here turns each event into one queued delivery per webhook
 * that wants it; the delivery worker sends them.
 */
import type { ActivityService, Actor } from '../activity/service.ts';
import type { Db } from '../db/open.ts';
import type { ProjectRepo } from '../db/projects.ts';
import type { WebhookRepo } from '../db/webhooks.ts';
import { decodeCursor, toPage, type Page } from '../db/pagination.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { SlipwayEvent } from '../events/bus.ts';
import { newId } from '../ids.ts';
import { findProject } from '../projects/find.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { checkDestination, DestinationRefused, type DestinationPolicy, parseWebhookUrl } from './destination.ts';
import { newSecret } from './signature.ts';
import {
  deliveryDetail,
  deliveryView,
  type DeliveryDetail,
  type DeliveryView,
  webhookView,
  type WebhookView,
} from './view.ts';

/** How long a delivery is retried after it was queued. */
export const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** What creating a webhook takes. */
export interface NewWebhook {
  url: string;
  events: string[];
  project?: string | null;
  description?: string | null;
}

/** What the webhook service needs. */
export interface WebhookServiceDeps {
  db: Db;
  repo: WebhookRepo;
  projects: Pick<ProjectRepo, 'findByName'>;
  activity: ActivityService;
  box: SecretBox;
  destinations: DestinationPolicy;
  now: () => Date;
  /** How long deliveries are retried (24 h). */
  retryWindowMs: number;
  /** Wakes the delivery worker, so a new or redelivered delivery goes out now. */
  wake: () => void;
}

/** The context a webhook's secret is sealed with. */
export const secretContext = (id: string) => `webhook:${id}`;

/** The webhook service. */
export function webhookService(d: WebhookServiceDeps) {
  const find = (id: string) => {
    const row = d.repo.find(id);
    if (!row) throw new NotFoundError(`No webhook with id "${id}"`);
    return row;
  };
  const queue = (
    fields: { webhook_id: string; event_id: string; event_type: string; project: string | null },
    body: string,
    redeliveryOf: string | null,
  ) => {
    const now = d.now();
    const id = newId('whd');
    d.repo.deliveries.insert({
      ...fields,
      id,
      body,
      next_attempt_at: now.toISOString(),
      give_up_at: new Date(now.getTime() + d.retryWindowMs).toISOString(),
      redelivery_of: redeliveryOf,
      created_at: now.toISOString(),
    });
    return id;
  };

  return {
    /** Registers a webhook; the result carries the signing secret, shown this once. */
    async create(actor: Actor, input: NewWebhook): Promise<WebhookView & { secret: string }> {
      const url = await checkedUrl(input.url, d.destinations);
      const events = [...new Set(input.events)];
      const project = input.project ? findProject(d.projects, input.project) : null;
      const id = newId('whk');
      const secret = newSecret();
      d.db.transaction(() => {
        d.repo.insert({
          id,
          url: url.href,
          events: JSON.stringify(events),
          project_id: project?.id ?? null,
          description: input.description ?? null,
          secret_sealed: d.box.seal(secret, secretContext(id)),
          created_at: d.now().toISOString(),
        });
        d.activity.record(actor, {
          action: 'webhook.create',
          targetType: 'webhook',
          target: id,
          project: project?.name ?? null,
          changes: { url: url.origin, events },
        });
      })();
      return { ...webhookView(find(id)), secret };
    },

    /** Newest first. */
    list(q: { cursor?: string; limit: number }): Page<WebhookView> {
      const before = decodeCursor('webhooks', q.cursor, 'string') ?? '\uffff';
      const page = toPage(d.repo.list(before, q.limit + 1), q.limit, (r) => r.id, 'webhooks');
      return { data: page.data.map(webhookView), pagination: page.pagination };
    },

    get: (id: string): WebhookView => webhookView(find(id)),

    /** Removes a webhook with its queued and past deliveries. */
    remove(actor: Actor, id: string): void {
      const row = find(id);
      d.db.transaction(() => {
        d.repo.remove(id);
        d.activity.record(actor, { action: 'webhook.delete', targetType: 'webhook', target: id, project: row.project });
      })();
    },

    /** A webhook's deliveries, newest first. */
    deliveries(id: string, q: { cursor?: string; limit: number }): Page<DeliveryView> {
      find(id);
      const list = `deliveries:${id}`;
      const before = decodeCursor(list, q.cursor, 'string') ?? '\uffff';
      const page = toPage(d.repo.deliveries.list(id, before, q.limit + 1), q.limit, (r) => r.id, list);
      return { data: page.data.map(deliveryView), pagination: page.pagination };
    },

    /** One delivery with its payload and attempts. */
    delivery(id: string, deliveryId: string): DeliveryDetail {
      const row = d.repo.deliveries.find(find(id).id, deliveryId);
      if (!row) throw new NotFoundError(`No delivery "${deliveryId}" of webhook "${id}"`);
      return deliveryDetail(row, d.repo.deliveries.attempts(row.id));
    },

    /**
     * Sends a delivery's event again as a new delivery (same event id and body, a fresh retry
     * window); 409 while the original is still being retried.
     */
    redeliver(actor: Actor, id: string, deliveryId: string): DeliveryView {
      const row = d.repo.deliveries.find(find(id).id, deliveryId);
      if (!row) throw new NotFoundError(`No delivery "${deliveryId}" of webhook "${id}"`);
      if (row.status === 'pending' || row.status === 'sending') {
        throw new ConflictError(
          `Cannot redeliver ${row.id}: it is still being retried (next attempt at ${row.next_attempt_at})`,
        );
      }
      const created = d.db.transaction(() => {
        const created = queue(row, row.body, row.id);
        d.activity.record(actor, {
          action: 'webhook.redeliver',
          targetType: 'webhook_delivery',
          target: created,
          project: row.project,
          changes: { webhook: id, redelivery_of: row.id, event: row.event_type },
        });
        return created;
      })();
      d.wake();
      return deliveryView(d.repo.deliveries.find(id, created)!);
    },

    /** The bus subscriber: one queued delivery per webhook that wants `event`. */
    enqueue(event: SlipwayEvent): void {
      const body = JSON.stringify({
        id: event.id,
        type: event.type,
        created_at: event.created_at,
        project: event.project,
        data: event.data,
      });
      const hooks = d.repo.subscribedTo(event.type, event.project);
      for (const hook of hooks) {
        queue({ webhook_id: hook.id, event_id: event.id, event_type: event.type, project: event.project }, body, null);
      }
      if (hooks.length > 0) d.wake();
    },
  };
}

/** The webhook service. */
export type WebhookService = ReturnType<typeof webhookService>;

async function checkedUrl(raw: string, policy: DestinationPolicy): Promise<URL> {
  try {
    const url = parseWebhookUrl(raw);
    await checkDestination(url, policy);
    return url;
  } catch (err) {
    if (!(err instanceof DestinationRefused)) throw err;
    throw new ValidationError(`Cannot add the webhook: ${err.message}`, [{ path: '/url', message: err.message }]);
  }
}
