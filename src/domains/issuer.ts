/**
 * The handoff between domains and certificates: the domain checker verifies a name, the
 * certificate service orders its certificate. Domains only know these two interfaces.
 */
import type { DomainRow } from '../db/domains.ts';

/**
 * Orders a certificate for a verified domain; implemented by the certificate service.
 *
 * The checker calls `issue` with the domain's current row, under the domain's guard (so no check
 * and no other order of that domain runs meanwhile), for a domain that is `verified` and due, and
 * at start for one left `issuing` by a stop in the middle of an order. `issue` moves the domain
 * with `domainRepo.setStatus(id, change, from)`: verified → issuing, then → active (reason null,
 * next_attempt_at null, attempts 0) or → failed with the CA's message as reason and a
 * next_attempt_at, raising attempts. It may also leave the domain verified with a next_attempt_at
 * in the future (a rate limit to wait out). A domain it leaves due is deferred by the checker's
 * backoff; an exception it throws fails the domain with the exception's message.
 */
export interface CertificateIssuer {
  issue(domain: DomainRow): Promise<void>;
}

/** What deleting a domain asks of the certificate service. */
export interface CertificateRemover {
  /** Drops `hostname`'s certificate, pending order and ACME challenges, from slipway.db and the edge. */
  removeCertificate(hostname: string): Promise<void> | void;
}

/** What decides whether certificates are ordered at all. */
export interface IssuingSetup {
  issuer: CertificateIssuer | null;
  /** SLIPWAY_ACME_DIRECTORY; null when ACME is off. */
  acmeDirectory: string | null;
  /** Whether the edge has an HTTPS listener (SLIPWAY_HTTPS_LISTEN). */
  https: boolean;
}

/** Why no certificate is ordered for `hostname` (a verified domain's reason), or null when one is. */
export function noCertificateBecause(setup: IssuingSetup, hostname: string): string | null {
  const http = `${hostname} is served over HTTP only`;
  if (!setup.https)
    return `No certificate is ordered: the edge has no HTTPS listener (SLIPWAY_HTTPS_LISTEN is off); ${http}`;
  if (setup.acmeDirectory === null)
    return `No certificate is ordered: ACME is off (SLIPWAY_ACME_DIRECTORY=off); ${http} until a certificate is uploaded`;
  if (setup.issuer === null) return `No certificate is ordered: this agent runs no certificate service; ${http}`;
  return null;
}
