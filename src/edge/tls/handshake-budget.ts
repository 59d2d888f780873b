/**
 * How many connections may be in a native TLS handshake at once on the HTTPS listener. Bun's
 * socket layer serves at most 5 readable TLS sockets still in their handshake per event-loop
 * iteration and parks the rest in a last-in, first-out queue (README, "Why new-connection HTTPS
 * has a long tail"); keeping at most K ≤ 5 of them in a handshake keeps that queue empty. A slot is
 * held from the moment a connection enters native TLS until its handshake is done, it closes, or
 * HOLD_MS passes, so a client that sends a ClientHello and then nothing holds a slot briefly: it
 * only sends later connections to the fair path (which never waits for a slot), it never stalls them.
 */

/** Longest time one connection holds a native handshake slot (a handshake over a slow link takes a few round trips). */
export const HOLD_MS = 1000;

/** A slot taken from a HandshakeBudget; release() is idempotent. */
export interface HandshakeSlot {
  release(): void;
}

/** A counter of native handshakes in flight, at most `limit`. */
export class HandshakeBudget {
  private inFlight = 0;

  constructor(
    readonly limit: number,
    private readonly holdMs = HOLD_MS,
  ) {}

  /** Native handshakes in flight now. */
  get active(): number {
    return this.inFlight;
  }

  /** A slot, or null when `limit` handshakes are in flight. */
  take(): HandshakeSlot | null {
    if (this.inFlight >= this.limit) return null;
    this.inFlight += 1;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      clearTimeout(timer);
      this.inFlight -= 1;
    };
    const timer = setTimeout(release, this.holdMs);
    return { release };
  }
}
