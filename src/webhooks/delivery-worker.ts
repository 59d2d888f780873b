/**
 * The delivery worker: a loop that drains the event bus into the delivery queue, sends the
 * deliveries that are due (a few at a time, so one slow receiver never holds up the others, and
 * never in a deploy's path) and records each attempt. A failed attempt is retried with exponential
 * backoff until the delivery's 24 h window closes; then it is dead (the dead-letter view lists it).
 * Claims are committed before sending; a restart puts unfinished claims back in the queue.
 */
import type { DeliveryRow, WebhookRepo } from '../db/webhooks.ts';
import type { EventBus } from '../events/bus.ts';
import type { Logger } from '../log.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { VERSION } from '../version.ts';
import { checkDestination, DestinationRefused, type DestinationPolicy, parseWebhookUrl } from './destination.ts';
import { send, type SendResult } from './send.ts';
import { secretContext } from './service.ts';
import { sign, SIGNATURE_HEADER } from './signature.ts';

/** Timings of the worker; tests shorten them. */
export interface DeliveryTuning {
  /** Wait after the first failed attempt; doubled after each one (15 s). */
  firstRetryMs: number;
  /** The longest wait between attempts (1 h). */
  maxRetryMs: number;
  /** Time limit of one attempt, connection to last byte read (10 s). */
  timeoutMs: number;
  /** How often the loop looks for events and due deliveries (1 s). */
  pollMs: number;
  /** Attempts in flight at once (4). */
  concurrency: number;
  /** Ended deliveries are deleted this long after they ended (30 days). */
  keepMs: number;
}

/** Due deliveries looked at per pass, enough to find some of idle webhooks behind a busy one's. */
const DUE_BATCH = 200;

/** The production timings. */
export const DEFAULT_DELIVERY_TUNING: DeliveryTuning = {
  firstRetryMs: 15_000,
  maxRetryMs: 60 * 60 * 1000,
  timeoutMs: 10_000,
  pollMs: 1000,
  concurrency: 4,
  keepMs: 30 * 24 * 60 * 60 * 1000,
};

/** What the worker needs. */
export interface DeliveryWorkerDeps {
  repo: WebhookRepo;
  bus: EventBus;
  box: SecretBox;
  destinations: DestinationPolicy;
  log: Logger;
  now: () => Date;
  tuning: DeliveryTuning;
}

/** The wait before attempt `attempts + 1`, after `attempts` failed ones: doubling, capped, with up to 10 % jitter. */
export function retryDelayMs(attempts: number, tuning: Pick<DeliveryTuning, 'firstRetryMs' | 'maxRetryMs'>): number {
  const base = Math.min(tuning.firstRetryMs * 2 ** Math.max(0, attempts - 1), tuning.maxRetryMs);
  return Math.round(base * (1 + Math.random() * 0.1));
}

/** The delivery worker. */
export class DeliveryWorker {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Webhooks with an attempt in flight: one at a time each, so a slow receiver holds one slot, not all. */
  private readonly busyHooks = new Set<string>();
  private running = false;
  private lastPrune = 0;

  constructor(private readonly d: DeliveryWorkerDeps) {}

  /** Puts claims left by a stopped process back in the queue and starts the loop. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const released = this.d.repo.deliveries.releaseClaims();
    if (released > 0) this.d.log.info('webhook deliveries resumed after a restart', { deliveries: released });
    this.schedule(0);
  }

  /** Stops the loop and waits for the attempts in flight. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all(this.inFlight.values());
  }

  /** Runs the loop's next pass now (a new delivery was queued). */
  wake(): void {
    if (this.running) this.schedule(0);
  }

  /** One pass: drain the bus, start due attempts, prune old deliveries. Returns the attempts it started. */
  tick(): Promise<void>[] {
    try {
      this.d.bus.drain();
      this.prune();
      const free = this.d.tuning.concurrency - this.inFlight.size;
      if (free <= 0) return [];
      const started: Promise<void>[] = [];
      for (const row of this.d.repo.deliveries.due(this.d.now().toISOString(), DUE_BATCH)) {
        if (started.length >= free) break;
        if (this.busyHooks.has(row.webhook_id) || this.inFlight.has(row.id)) continue;
        if (this.d.repo.deliveries.claim(row.id)) started.push(this.track(row));
      }
      return started;
    } catch (err) {
      this.d.log.error('webhook delivery pass failed', { error: (err as Error).message });
      return [];
    }
  }

  private track(row: DeliveryRow): Promise<void> {
    const attempt = this.attempt(row)
      .catch((err) => this.d.log.error('webhook attempt failed', { delivery: row.id, error: (err as Error).message }))
      .finally(() => {
        this.inFlight.delete(row.id);
        this.busyHooks.delete(row.webhook_id);
        this.wake();
      });
    this.inFlight.set(row.id, attempt);
    this.busyHooks.add(row.webhook_id);
    return attempt;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.running) return;
      this.tick();
      if (this.running && !this.timer) this.schedule(this.d.tuning.pollMs);
    }, ms);
  }

  private prune(): void {
    const now = this.d.now().getTime();
    if (now - this.lastPrune < 60 * 60 * 1000) return;
    this.lastPrune = now;
    const pruned = this.d.repo.deliveries.prune(new Date(now - this.d.tuning.keepMs).toISOString());
    if (pruned > 0) this.d.log.info('old webhook deliveries deleted', { deliveries: pruned });
  }

  /** Sends one claimed delivery and records the attempt and what follows: delivered, a retry, or dead. */
  private async attempt(row: DeliveryRow): Promise<void> {
    const hook = this.d.repo.find(row.webhook_id);
    if (!hook) return; // removed meanwhile, with its deliveries
    // Anything unexpected (a secret that no longer opens) is a failed attempt too, never a lost claim.
    const result = await this.post(row, hook.url, () => this.d.box.open(hook.secret_sealed, secretContext(hook.id)));
    const now = this.d.now();
    const retryAt = new Date(now.getTime() + retryDelayMs(row.attempts + 1, this.d.tuning));
    const status = result.ok ? 'delivered' : retryAt.toISOString() > row.give_up_at ? 'dead' : 'pending';
    this.d.repo.deliveries.finishAttempt(row.id, {
      at: now.toISOString(),
      status_code: result.status_code,
      error: result.error,
      duration_ms: result.duration_ms,
      status,
      next_attempt_at: status === 'pending' ? retryAt.toISOString() : null,
    });
    const fields = { delivery: row.id, webhook: hook.id, event: row.event_type, attempt: row.attempts + 1 };
    if (status === 'dead') this.d.log.warn('webhook delivery gave up', { ...fields, error: result.error });
    else if (status === 'pending')
      this.d.log.info('webhook delivery failed, will retry', {
        ...fields,
        error: result.error,
        at: retryAt.toISOString(),
      });
  }

  private async post(row: DeliveryRow, rawUrl: string, secret: () => string): Promise<SendResult> {
    const started = performance.now();
    try {
      const url = parseWebhookUrl(rawUrl);
      const address = await checkDestination(url, this.d.destinations);
      const unix = Math.floor(this.d.now().getTime() / 1000);
      return await send({
        url,
        address,
        body: row.body,
        timeoutMs: this.d.tuning.timeoutMs,
        headers: {
          'content-type': 'application/json',
          'user-agent': `Slipway-Webhooks/${VERSION}`,
          'slipway-event': row.event_type,
          'slipway-delivery': row.id,
          [SIGNATURE_HEADER.toLowerCase()]: sign(secret(), unix, row.body),
        },
      });
    } catch (err) {
      const duration_ms = Math.round(performance.now() - started);
      if (err instanceof DestinationRefused)
        return { ok: false, status_code: null, error: `refused: ${err.message}`, duration_ms };
      this.d.log.error('webhook attempt failed', { delivery: row.id, error: (err as Error).message });
      return { ok: false, status_code: null, error: 'internal error before sending', duration_ms };
    }
  }
}
