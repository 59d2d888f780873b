import type { CertificateRow } from '../db/certificates.ts';

/** Days before expiry from which a certificate is flagged (status, /metrics). */
export const EXPIRY_WARNING_DAYS = 14;

/** A certificate as the API shows it: never its key. */
export interface CertificateView {
  hostname: string;
  /** The project it serves; null for the API domain and the base domain's wildcard. */
  project: string | null;
  source: 'acme' | 'uploaded';
  issuer: string;
  serial: string;
  not_before: string;
  not_after: string;
  /** Whole days until not_after (negative once expired). */
  days_left: number;
  /** When Slipway renews it; null for uploaded ones, which it never renews. */
  renew_at: string | null;
  renewal: { failures: number; last_error: string | null; next_attempt_at: string | null };
}

/** The view of a row at `now`. */
export function certificateView(row: CertificateRow, project: string | null, now: Date): CertificateView {
  return {
    hostname: row.hostname,
    project,
    source: row.source,
    issuer: row.issuer,
    serial: row.serial,
    not_before: row.not_before,
    not_after: row.not_after,
    days_left: daysLeft(row.not_after, now),
    renew_at: row.renew_at,
    renewal: { failures: row.renew_failures, last_error: row.renew_error, next_attempt_at: row.renew_next_at },
  };
}

/** Whole days from `now` until `notAfter`, rounded down. */
export function daysLeft(notAfter: string, now: Date): number {
  return Math.floor((Date.parse(notAfter) - now.getTime()) / 86_400_000);
}
