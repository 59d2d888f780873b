/** Builds the webhooks: the event bus, the service, its subscription and the delivery worker. */
import type { ActivityService } from '../activity/service.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/open.ts';
import type { ProjectRepo } from '../db/projects.ts';
import { webhookRepo } from '../db/webhooks.ts';
import { eventBus, type EventBus } from '../events/bus.ts';
import type { Logger } from '../log.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { type CheckedAddress, ownAddresses } from './destination.ts';
import { DEFAULT_DELIVERY_TUNING, DeliveryWorker, type DeliveryTuning } from './delivery-worker.ts';
import { RETRY_WINDOW_MS, webhookService, type WebhookService } from './service.ts';

/** What tests may change: timings, the clock, name resolution. */
export interface WebhookTuning {
  delivery?: Partial<DeliveryTuning>;
  retryWindowMs?: number;
  now?: () => Date;
  resolve?: (hostname: string) => Promise<CheckedAddress[]>;
}

/** The parts of webhooks deps wires. */
export interface Webhooks {
  bus: EventBus;
  service: WebhookService;
  worker: DeliveryWorker;
  repo: ReturnType<typeof webhookRepo>;
}

/** Wires the event bus to the webhook service and its delivery worker. */
export function createWebhooks(s: {
  config: Pick<Config, 'webhookAllowPrivate' | 'publicIps'>;
  db: Db;
  projects: Pick<ProjectRepo, 'findByName'>;
  activity: ActivityService;
  box: SecretBox;
  log: Logger;
  tuning?: WebhookTuning;
}): Webhooks {
  const now = s.tuning?.now ?? (() => new Date());
  const repo = webhookRepo(s.db);
  const bus = eventBus(s.db, s.log);
  const destinations = {
    allowPrivate: s.config.webhookAllowPrivate,
    ownAddresses: () => ownAddresses(s.config.publicIps),
    resolve: s.tuning?.resolve,
  };
  const worker = new DeliveryWorker({
    repo,
    bus,
    box: s.box,
    destinations,
    log: s.log,
    now,
    tuning: { ...DEFAULT_DELIVERY_TUNING, ...s.tuning?.delivery },
  });
  const service = webhookService({
    db: s.db,
    repo,
    projects: s.projects,
    activity: s.activity,
    box: s.box,
    destinations,
    now,
    retryWindowMs: s.tuning?.retryWindowMs ?? RETRY_WINDOW_MS,
    wake: () => worker.wake(),
  });
  bus.subscribe((event) => service.enqueue(event));
  return { bus, service, worker, repo };
}
