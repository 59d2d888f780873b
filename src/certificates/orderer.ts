import type { Actor, ActivityService } from '../activity/service.ts';
import type { CertificateRepo } from '../db/certificates.ts';
import type { Challenge } from '../edge/route-store.ts';
import { newId } from '../ids.ts';
import type { Logger } from '../log.ts';
import type { EdgeRoutes } from '../release/edge-routes.ts';
import type { AcmeAccount } from './acme-account.ts';
import { CaUnreachable } from './acme-http.ts';
import { type IssuedCertificate, orderCertificate } from './acme-order.ts';
import { OrderFailure } from './order-failure.ts';
import { checkOrderRate, checkProjectRate, type OrderLimits, type ProjectOrderLimit } from './rate-limits.ts';

/** The actor of what Slipway does on its own (orders, renewals), in the activity log. */
export const SYSTEM_ACTOR: Actor = { tokenId: null, tokenName: 'system', requestId: null, clientIp: null };

/** How long a pending order row holds its name: past this, it was left by a process that died. */
export const ORDER_HOLD_MS = 10 * 60 * 1000;
/** How long a published challenge is served. */
const CHALLENGE_TTL_MS = 10 * 60 * 1000;
const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** What placing orders needs. */
export interface OrdererDeps {
  repo: CertificateRepo;
  account: AcmeAccount;
  edge: Pick<EdgeRoutes, 'putChallenge' | 'removeChallenge' | 'progress'>;
  activity: ActivityService;
  log: Logger;
  now: () => Date;
  /** How long to wait for the edge to serve a challenge before asking the CA to validate it. */
  challengeWaitMs: number;
  limits?: OrderLimits;
  projectLimit?: ProjectOrderLimit;
}

/**
 * Places certificate orders with the CA and records each in acme_orders: refuses while another
 * order for the name is pending (one left by a dead process is abandoned after ORDER_HOLD_MS),
 * counts the registered domain's orders of the week first (warning near the CA's limit, refusing at
 * it), and publishes the HTTP-01 challenges through the route store, which the edge reads.
 * Callers make sure one process runs one order per name at a time.
 */
export function orderer(d: OrdererDeps) {
  /** Resolves once the edge applied store version `version`, or after challengeWaitMs (false). */
  const waitForEdge = async (version: number): Promise<boolean> => {
    const deadline = Date.now() + d.challengeWaitMs;
    while (d.edge.progress().appliedVersion < version) {
      if (Date.now() > deadline) return false;
      await Bun.sleep(25);
    }
    return true;
  };
  const board = {
    async put(token: string, keyAuthorization: string) {
      const challenge: Challenge = {
        path: `${CHALLENGE_PREFIX}${token}`,
        body: keyAuthorization,
        expiresAt: new Date(Date.now() + CHALLENGE_TTL_MS).toISOString(),
      };
      if (!(await waitForEdge(d.edge.putChallenge(challenge)))) {
        d.log.warn('the edge has not applied a challenge yet; asking the CA to validate anyway', { token });
      }
    },
    remove: (token: string) => void d.edge.removeChallenge(`${CHALLENGE_PREFIX}${token}`),
  };

  return {
    waitForEdge,
    /** Orders a certificate for `hostname` of project `projectId` (null: none); throws an OrderFailure saying why not. */
    async order(hostname: string, projectId: string | null): Promise<IssuedCertificate> {
      const now = d.now();
      d.repo.orders.abandon(
        hostname,
        new Date(now.getTime() - ORDER_HOLD_MS).toISOString(),
        'Abandoned: the process that placed it ended',
      );
      const pending = d.repo.orders.pending(hostname);
      if (pending) {
        const frees = Date.parse(pending.created_at) + ORDER_HOLD_MS;
        throw new OrderFailure(
          `An order for ${hostname} placed at ${pending.created_at} may still be in flight; not placing another before ${new Date(frees).toISOString()}`,
          { retryAt: new Date(frees), beforeOrder: true },
        );
      }
      checkProjectRate(d.repo.orders, hostname, projectId, now, d.projectLimit);
      const rate = checkOrderRate(d.repo.orders, hostname, now, d.limits);
      const client = await d.account.client().catch((err: unknown) => {
        if (err instanceof OrderFailure) throw err;
        if (err instanceof CaUnreachable)
          throw new OrderFailure(`Cannot reach the ACME server at ${d.account.directoryUrl}: ${err.detail}`, {
            beforeOrder: true,
          });
        throw new OrderFailure(`Cannot log in to the ACME account: ${(err as Error).message}`, { beforeOrder: true });
      });
      if (rate.warning) {
        d.log.warn('certificate orders near the weekly limit', { hostname, registered_domain: rate.registeredDomain });
        d.activity.record(SYSTEM_ACTOR, {
          action: 'certificate.rate_warning',
          targetType: 'certificate',
          target: hostname,
          changes: { registered_domain: rate.registeredDomain, orders_this_week: rate.count, message: rate.warning },
        });
      }
      const id = newId('ord');
      d.repo.orders.start({
        id,
        hostname,
        registered_domain: rate.registeredDomain,
        project_id: projectId,
        created_at: now.toISOString(),
      });
      try {
        const issued = await orderCertificate(client, hostname, board);
        d.repo.orders.finish(id, 'valid', null);
        return issued;
      } catch (err) {
        d.repo.orders.finish(id, 'invalid', (err as Error).message);
        throw err;
      }
    },
  };
}

/** Places certificate orders. */
export type Orderer = ReturnType<typeof orderer>;
