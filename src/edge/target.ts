/**
 * Targets and their open exchanges. An exchange is one proxied HTTP request (until its response
 * body ends) or one proxied WebSocket (until it closes); counting them is what lets a target be
 * drained before its container stops, as kamal-proxy's target.go does with its inflight map.
 */

import { SlotList } from './slot-list.ts';

/** One HTTP request or WebSocket holding a target busy; `cut` ends it abruptly. */
export interface Exchange {
  cut(): void;
  /** Where it sits among its target's open exchanges: kept by the target, -1 (or absent) while in none. */
  targetSlot?: number;
}

/** How long a target that refused a connection is passed over while others of its route answer. */
export const UNREACHABLE_MS = 5000;

/** One instance of an app: where requests go, and what is still open on it. */
export class Target {
  /** A draining target gets no new exchanges; open ones may finish. */
  draining = false;
  /** Until when (performance.now()) requests prefer other targets: a connection to this one just failed. */
  private unreachableUntil = 0;
  /**
   * The open exchanges. Not a Set: JSC's Set keeps the exchanges deleted from it reachable from its
   * storage until it is rehashed, so a minor collection kept every recent request's objects alive
   * and the edge ran a full collection every few hundred milliseconds under load (slot-list.ts).
   */
  private readonly open = new SlotList<'targetSlot', Exchange>('targetSlot');
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly address: string,
    private readonly onIdle: (t: Target) => void = () => {},
  ) {}

  /**
   * Whether requests may go here: false for UNREACHABLE_MS after a connection to it failed (its
   * node went down, its task died), like nginx's max_fails=1, until the runtime's follower drops it.
   */
  get reachable(): boolean {
    return this.unreachableUntil === 0 || performance.now() >= this.unreachableUntil;
  }

  /** A connection to the target failed: pass it over for a while. */
  markUnreachable(): void {
    this.unreachableUntil = performance.now() + UNREACHABLE_MS;
  }

  /** In-flight requests plus open WebSockets. */
  get inflight(): number {
    return this.open.size;
  }

  /** Registers an exchange; the returned function ends it and may be called any number of times. */
  begin(exchange: Exchange): () => void {
    this.enter(exchange);
    return () => this.leave(exchange);
  }

  /** Registers an exchange without making a function for its end (the native engine's hot path). */
  enter(exchange: Exchange): void {
    this.open.add(exchange);
  }

  /** Ends an exchange; may be called any number of times. */
  leave(exchange: Exchange): void {
    if (!this.open.remove(exchange) || this.open.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
    this.onIdle(this);
  }

  /** Resolves once no exchange is open. */
  whenIdle(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cuts every open exchange; returns how many there were. */
  cutAll(): number {
    const open = this.open.snapshot();
    // Each cut ends its exchange, which removes it from `open`; iterate over a copy.
    for (const exchange of open) exchange.cut();
    return open.length;
  }
}

/** The targets the edge knows: routed ones, plus draining ones until their last exchange ends. */
export class TargetRegistry {
  private readonly byAddress = new Map<string, Target>();

  /** Makes `routed` the live set; returns the addresses that have just started draining. */
  sync(routed: Set<string>): string[] {
    const drained: string[] = [];
    for (const address of routed) {
      const known = this.byAddress.get(address);
      if (known) known.draining = false;
      else this.byAddress.set(address, this.create(address));
    }
    for (const target of this.byAddress.values()) {
      if (routed.has(target.address) || target.draining) continue;
      target.draining = true;
      drained.push(target.address);
      if (target.inflight === 0) this.byAddress.delete(target.address);
    }
    return drained;
  }

  /** The target at `address`; routed targets are always present, draining ones while busy. */
  find(address: string): Target | undefined {
    return this.byAddress.get(address);
  }

  /** Every known target. */
  all(): Target[] {
    return [...this.byAddress.values()];
  }

  private create(address: string): Target {
    return new Target(address, (t) => {
      // A draining target with nothing open is gone for good; forget it so the map stays small.
      if (t.draining && this.byAddress.get(t.address) === t) this.byAddress.delete(t.address);
    });
  }
}
