/**
 * Why a certificate could not be ordered, in words fit for a domain's `reason` (the CA's own
 * problem detail where it gave one), and when to try again if the CA or a rate limit says so.
 */
export class OrderFailure extends Error {
  /** Milliseconds the CA (Retry-After) or Slipway's rate-limit window asks to wait; null: the usual backoff. */
  readonly retryAfterMs: number | null;
  /** True when no order was placed with the CA (refused by Slipway's own checks). */
  readonly beforeOrder: boolean;

  constructor(message: string, opts: { retryAfterMs?: number | null; beforeOrder?: boolean } = {}) {
    super(message);
    this.name = 'OrderFailure';
    this.retryAfterMs = opts.retryAfterMs ?? null;
    this.beforeOrder = opts.beforeOrder ?? false;
  }
}
