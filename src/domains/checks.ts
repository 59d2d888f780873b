/**
 * One check of one domain, and what it does to the domain's status: the one place a verdict
 * becomes a status change, for the API's verify and the background checker alike.
 */
import type { DomainRepo, DomainRow, DomainStatus } from '../db/domains.ts';
import type { OwnNames } from './hostname.ts';
import { retireOwnName } from './own-names.ts';
import { type HostEdge, routeDomain } from './routing.ts';
import type { Verifier } from './verify.ts';

/** The first wait after a failed check; each further failure doubles it. */
export const FIRST_RETRY_MS = 30_000;
/** The longest wait between checks of a pending domain. */
export const MAX_RETRY_MS = 60 * 60_000;
/** How often a verified domain that gets no certificate is checked again. */
export const VERIFIED_RECHECK_MS = 60 * 60_000;

/** The wait before the next check after `attempts` failed ones in a row: 30 s, 1 min, 2 min … 1 h. */
export function retryDelayMs(attempts: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), MAX_RETRY_MS);
}

/** What a check needs. */
export interface DomainChecksDeps {
  repo: DomainRepo;
  verify: Verifier;
  /** Why no certificate is ordered for a verified name, or null when the checker hands it to the issuer. */
  noCertificate(hostname: string): string | null;
  /** The edge follows each verdict: a domain awaiting its ownership proof is routed only once verified. */
  edge: HostEdge;
  own: OwnNames;
  now?: () => number;
}

const CHECKED: readonly DomainStatus[] = ['pending_dns', 'verified', 'failed'];

/**
 * Checks a domain and records the verdict; the caller holds the domain's guard. Returns the row
 * as it is afterwards (undefined when the domain was deleted meanwhile).
 *
 * - pending_dns, failed, verified: a pass makes it verified (due now, for the issuer, unless no
 *   certificate is ordered: then reason says why and it is checked again hourly); a failure makes
 *   it pending_dns with the reason, one more attempt and the backoff's next_attempt_at.
 * - issuing, active: only last_check is updated; the certificate service owns these states.
 * - a name that is now one of the agent's own fails for good (see own-names.ts), whatever its state.
 */
export function domainChecks(d: DomainChecksDeps) {
  const now = d.now ?? Date.now;
  const at = (ms: number) => new Date(now() + ms).toISOString();
  return async function check(id: string): Promise<DomainRow | undefined> {
    const row = d.repo.byId(id);
    if (!row) return undefined;
    if (retireOwnName(d, row)) return d.repo.byId(id);
    const verdict = await d.verify(row.hostname, row.ownership_token);
    const last_check = JSON.stringify(verdict.check);
    if (!CHECKED.includes(row.status)) {
      const { status, reason, next_attempt_at } = row;
      d.repo.setStatus(id, { status, reason, next_attempt_at, last_check }, [status]);
    } else if (verdict.ok) {
      const reason = d.noCertificate(row.hostname);
      d.repo.setStatus(
        id,
        {
          status: 'verified',
          reason,
          next_attempt_at: at(reason === null ? 0 : VERIFIED_RECHECK_MS),
          // A failed order's count survives the check that precedes the next order, so orders back off.
          attempts: row.status === 'failed' ? undefined : 0,
          last_check,
        },
        CHECKED,
      );
    } else {
      const attempts = row.attempts + 1;
      d.repo.setStatus(
        id,
        {
          status: 'pending_dns',
          reason: verdict.reason,
          next_attempt_at: at(retryDelayMs(attempts)),
          attempts,
          last_check,
        },
        CHECKED,
      );
    }
    routeDomain(d.repo, d.edge, d.own, id);
    return d.repo.byId(id);
  };
}

/** Checks a domain and records the verdict. */
export type DomainCheck = ReturnType<typeof domainChecks>;
