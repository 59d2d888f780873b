/**
 * Why a certificate could not be ordered, in words fit for a domain's `reason` (the CA's own
 * problem detail where it gave one), and when to try again if the CA or a limit says so.
 */
export class OrderFailure extends Error {
  /** An exact time to try again: when a rate-limit window frees up or a pending order times out. */
  readonly retryAt: Date | null;
  /** A wait the CA asked for (Retry-After), from when it answered. */
  readonly retryAfterMs: number | null;
  /** True when no order was placed with the CA (refused by Slipway's own checks). */
  readonly beforeOrder: boolean;

  constructor(
    message: string,
    opts: { retryAt?: Date | null; retryAfterMs?: number | null; beforeOrder?: boolean } = {},
  ) {
    super(message);
    this.name = 'OrderFailure';
    this.retryAt = opts.retryAt ?? null;
    this.retryAfterMs = opts.retryAfterMs ?? null;
    this.beforeOrder = opts.beforeOrder ?? false;
  }

  /** When to try again at `now`: the time asked for, else after `backoffMs`. */
  nextAttempt(now: Date, backoffMs: number): Date {
    return this.retryAt ?? new Date(now.getTime() + (this.retryAfterMs ?? backoffMs));
  }

  /** Whether the CA or a limit named the time to try again (a rate limit, in HTTP terms). */
  get limited(): boolean {
    return this.retryAt !== null || this.retryAfterMs !== null;
  }
}
