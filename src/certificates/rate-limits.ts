import type { CertificateRepo } from '../db/certificates.ts';
import { registeredDomain } from '../domains/hostname.ts';
import { OrderFailure } from './order-failure.ts';

/** How many orders per registered domain a window allows: a warning from `warnAt`, a refusal at `refuseAt`. */
export interface OrderLimits {
  windowMs: number;
  warnAt: number;
  refuseAt: number;
}

/** Let's Encrypt's weekly limit of new certificates per registered domain, and where Slipway warns. */
export const ORDER_LIMITS: OrderLimits = { windowMs: 7 * 24 * 3600 * 1000, warnAt: 40, refuseAt: 50 };

/** How many orders one project may place in a window: the CA's limits are per account, which all projects share. */
export interface ProjectOrderLimit {
  windowMs: number;
  max: number;
}

/** At most 10 orders per project per hour. */
export const PROJECT_ORDER_LIMIT: ProjectOrderLimit = { windowMs: 3600 * 1000, max: 10 };

/** What the check found when it let an order through. */
export interface RateCheck {
  registeredDomain: string;
  /** Orders counted in the window, this one included. */
  count: number;
  /** Set when the registered domain nears its limit. */
  warning: string | null;
}

/**
 * Counts the orders placed for `hostname`'s registered domain in the last week (at `now`): from
 * `limits.refuseAt` on, refuses with the time the oldest one leaves the window; from
 * `limits.warnAt`, lets the order through with a warning.
 */
export function checkOrderRate(
  orders: CertificateRepo['orders'],
  hostname: string,
  now: Date,
  limits: OrderLimits = ORDER_LIMITS,
): RateCheck {
  const domain = registeredDomain(hostname);
  const since = new Date(now.getTime() - limits.windowMs).toISOString();
  const placed = orders.countSince(domain, since);
  if (placed >= limits.refuseAt) {
    const oldest = Date.parse(orders.oldestSince(domain, since) ?? now.toISOString());
    const frees = new Date(oldest + limits.windowMs);
    throw new OrderFailure(
      `Not ordering a certificate for ${hostname}: ${placed} orders for ${domain} in the last 7 days reached the CA's weekly limit of ${limits.refuseAt}; the next order can be placed at ${frees.toISOString()}`,
      { retryAt: frees, beforeOrder: true },
    );
  }
  const count = placed + 1;
  const warning =
    count >= limits.warnAt
      ? `${count} certificate orders for ${domain} in the last 7 days: the CA refuses more than ${limits.refuseAt} a week`
      : null;
  return { registeredDomain: domain, count, warning };
}

/**
 * Refuses an order for `hostname` when project `projectId` placed `limit.max` orders in the last
 * window (at `now`), with the time the oldest one leaves it. Names of no project are not capped.
 */
export function checkProjectRate(
  orders: CertificateRepo['orders'],
  hostname: string,
  projectId: string | null,
  now: Date,
  limit: ProjectOrderLimit = PROJECT_ORDER_LIMIT,
): void {
  if (projectId === null) return;
  const placed = orders.projectSince(projectId, new Date(now.getTime() - limit.windowMs).toISOString());
  if (placed.n < limit.max) return;
  const frees = new Date(Date.parse(placed.oldest ?? now.toISOString()) + limit.windowMs);
  throw new OrderFailure(
    `Not ordering a certificate for ${hostname}: its project placed ${placed.n} orders in the last ${Math.round(limit.windowMs / 60_000)} minutes, the most one project may; the next order can be placed at ${frees.toISOString()}`,
    { retryAt: frees, beforeOrder: true },
  );
}
