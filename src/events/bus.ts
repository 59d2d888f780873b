/**
 * The event bus: what happened to deployments, domains, certificates and backups, delivered to
 * subscribers (the webhooks). Events are written by database triggers (migration 020) into the
 * `events` outbox in the same transaction as the change itself, whichever service made it, so no
 * service calls the bus and none can forget to; `drain()` hands them to the subscribers and
 * deletes them, in one transaction per batch, so a crash never loses or repeats one.
 */
import type { Db } from '../db/open.ts';
import { newId } from '../ids.ts';
import type { Logger } from '../log.ts';

/** Every event type a webhook may ask for. */
export const EVENT_TYPES = [
  'deployment.queued',
  'deployment.live',
  'deployment.failed',
  'deployment.canceled',
  'domain.active',
  'domain.failed',
  'certificate.renewal_failed',
  'backup.done',
  'backup.failed',
] as const;
/** One of EVENT_TYPES. */
export type EventType = (typeof EVENT_TYPES)[number];

/** An event as subscribers get it; `project` is null for agent-wide ones (backups). */
export interface SlipwayEvent {
  id: string;
  type: EventType;
  project: string | null;
  created_at: string;
  data: Record<string, unknown>;
}

/** Takes an event; runs inside the bus's transaction, so it must only write to the database. */
export type Subscriber = (event: SlipwayEvent) => void;

interface EventRow {
  seq: number;
  type: string;
  project: string | null;
  data: string;
  created_at: string;
}

const BATCH = 200;

/** The bus over one database's outbox. */
export function eventBus(db: Db, log: Logger) {
  const subscribers: Subscriber[] = [];
  const batch = db.prepare('SELECT * FROM events ORDER BY seq LIMIT ?');
  const remove = db.prepare('DELETE FROM events WHERE seq <= ?');
  // Each subscriber runs in a savepoint: one that throws loses its writes for that event, logged,
  // and never stalls the outbox on an event it cannot take.
  const deliver = (s: Subscriber, event: SlipwayEvent) => {
    try {
      db.transaction(() => s(event))();
    } catch (err) {
      log.error('an event subscriber failed', { event: event.type, error: (err as Error).message });
    }
  };
  const drainBatch = db.transaction((): number => {
    const rows = batch.all(BATCH) as EventRow[];
    for (const row of rows) {
      const event: SlipwayEvent = {
        id: newId('evt'),
        type: row.type as EventType,
        project: row.project,
        created_at: row.created_at,
        data: JSON.parse(row.data) as Record<string, unknown>,
      };
      for (const s of subscribers) deliver(s, event);
    }
    if (rows.length > 0) remove.run(rows[rows.length - 1]!.seq);
    return rows.length;
  });
  return {
    /** Adds a subscriber for every event drained from now on. */
    subscribe(s: Subscriber): void {
      subscribers.push(s);
    },
    /** Hands every event in the outbox to the subscribers; returns how many. */
    drain(): number {
      let total = 0;
      for (let n = drainBatch(); n > 0; n = drainBatch()) total += n;
      return total;
    },
  };
}

/** The event bus. */
export type EventBus = ReturnType<typeof eventBus>;
