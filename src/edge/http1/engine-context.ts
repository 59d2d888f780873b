/**
 * What the parts of the native engine share: the edge's settings and services for one listener,
 * and the two sides an exchange talks to.
 */
import type { Visitor } from '../forwarded.ts';
import type { RouteEntry } from '../route-table.ts';
import type { Target, TargetRegistry } from '../target.ts';
import type { TrustedProxies } from '../trusted-proxies.ts';
import type { Deadline, Deadlines } from './deadlines.ts';
import type { Sink } from './outbound.ts';
import type { UpstreamPool } from './upstream-pool.ts';

/** Where a routed request goes, as dispatch decided. */
export interface Forwarding {
  project: string;
  target: Target;
  /** The edge's own response headers (a raw list), replacing the upstream's of the same names. */
  headers: readonly string[];
  /** The project's route, for another target when this one refuses the connection; null for the API. */
  route: RouteEntry | null;
}

/** The edge's services, as one listener of the native engine uses them. */
export interface EngineContext {
  pool: UpstreamPool;
  /** The edge's targets, for another one of the route when a connection fails. */
  targets: TargetRegistry;
  deadlines: Deadlines;
  trusted: TrustedProxies;
  upstreamTimeoutMs: number;
  record(project: string, status: number, started: number): void;
  warn(msg: string, fields?: object): void;
}

/** The visitor's connection, as an exchange sees it. */
export interface VisitorSide {
  readonly out: Sink;
  /** The upstream deadline of the connection's current exchange (one object per connection, not per request). */
  readonly upstreamDeadline: UpstreamDeadline;
  readonly identity: Visitor;
  pauseReading(): void;
  resumeReading(): void;
  /** The exchange is over; `close` when the connection must end after what was written. */
  exchangeDone(close: boolean): void;
  /** Ends the connection at once (a response cut short). */
  abort(): void;
}

/** The deadline of a connection's current exchange: it expires whichever exchange holds it. */
export class UpstreamDeadline implements Deadline {
  due = 0;
  deadlineSlot = -1;
  holder: { expire(): void } | null = null;

  expire(): void {
    const holder = this.holder;
    this.holder = null;
    holder?.expire();
  }
}
