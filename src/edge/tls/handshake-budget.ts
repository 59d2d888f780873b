/**
 * How many connections may be in a native TLS handshake at once on the HTTPS listener. Bun's
 * socket layer serves at most 5 readable TLS sockets still in their handshake per event-loop
 * iteration and parks the rest in a last-in, first-out queue (README, "Why new-connection HTTPS
 * has a long tail"); keeping at most K ≤ 5 of them in a handshake keeps that queue empty.
 *
 * A slot is held from the moment a connection enters native TLS until its handshake is done, it
 * closes, or HOLD_MS passes. A connection that finds no slot waits for one, first come, first
 * served, for at most WAIT_MS, and then takes the fair path (node:tls over a Duplex), which never
 * waits. So a client that sends ClientHellos and then nothing can hold the slots only briefly, and
 * delays a later connection by WAIT_MS at most: it never stalls it. The short wait keeps most
 * connections native (cheaper per request for as long as they are kept alive) when many arrive at
 * once, such as a client opening its pool.
 */

/** Native handshakes at once by default (SLIPWAY_EDGE_TLS_ADMISSION): uSockets' budget per event-loop iteration. */
export const DEFAULT_ADMISSION = 5;

/** Longest time one connection holds a native handshake slot (a handshake over a slow link takes a few round trips). */
export const HOLD_MS = 1000;

/**
 * Longest time a connection waits for a native slot before it takes the fair path. On the quiet
 * machine (bench-tls-admission.sh, 3 rounds each) 25 ms gave a new-connection p99 of 1.29× and
 * 1.37× nginx's against 2.06× and 2.10× with 10 ms: more connections get a native slot, which
 * costs less CPU per handshake and per request after it.
 */
export const WAIT_MS = 25;

/** A slot taken from a HandshakeBudget; release() is idempotent. */
export interface HandshakeSlot {
  release(): void;
}

/** A connection waiting for a slot: it gets one (native), or none after WAIT_MS (fair). */
export interface SlotWaiter {
  readonly destroyed: boolean;
  granted(slot: HandshakeSlot | null): void;
}

/** A counter of native handshakes in flight, at most `limit`, with a first-come queue in front of it. */
export class HandshakeBudget {
  private inFlight = 0;
  private readonly queue: { waiter: SlotWaiter; due: number }[] = [];
  private head = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly limit: number,
    private readonly waitMs = WAIT_MS,
    private readonly holdMs = HOLD_MS,
  ) {}

  /** Native handshakes in flight now. */
  get active(): number {
    return this.inFlight;
  }

  /** Gives `waiter` a slot now, or when one frees within waitMs, or null after that (never synchronously null unless limit is 0). */
  request(waiter: SlotWaiter): void {
    if (this.limit === 0) {
      waiter.granted(null);
      return;
    }
    if (this.head === this.queue.length && this.inFlight < this.limit) {
      waiter.granted(this.take());
      return;
    }
    this.queue.push({ waiter, due: performance.now() + this.waitMs });
    this.timer ??= setTimeout(() => this.expire(), this.waitMs);
  }

  private take(): HandshakeSlot {
    this.inFlight += 1;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      clearTimeout(timer);
      this.inFlight -= 1;
      this.next();
    };
    const timer = setTimeout(release, this.holdMs);
    return { release };
  }

  /** A slot freed: the oldest live waiter gets it. */
  private next(): void {
    while (this.head < this.queue.length && this.inFlight < this.limit) {
      const { waiter } = this.queue[this.head]!;
      this.shift();
      if (!waiter.destroyed) waiter.granted(this.take());
    }
  }

  /** Waiters past their due time take the fair path; the timer follows the oldest one left. */
  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.head < this.queue.length && this.queue[this.head]!.due <= now) {
      const { waiter } = this.queue[this.head]!;
      this.shift();
      if (!waiter.destroyed) waiter.granted(null);
    }
    if (this.head < this.queue.length) this.timer = setTimeout(() => this.expire(), this.queue[this.head]!.due - now);
  }

  private shift(): void {
    this.queue[this.head] = undefined as never;
    this.head += 1;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
  }
}
