/** The domain object as the API shows it. */
import type { CertificateRow } from '../db/certificates.ts';
import type { DomainRow, DomainStatus } from '../db/domains.ts';
import type { DnsRecord } from './addresses.ts';
import type { LastCheck } from './verify.ts';

/** The certificate serving a domain, without its key. */
export interface DomainCertificateView {
  issuer: string;
  not_before: string;
  not_after: string;
  serial: string;
  source: 'acme' | 'uploaded';
}

/** A custom domain, where it stands and what to do. */
export interface DomainView {
  id: string;
  hostname: string;
  project: string;
  redirect_to_https: boolean;
  hsts: boolean;
  status: DomainStatus;
  reason: string | null;
  next_attempt_at: string | null;
  dns_records: DnsRecord[];
  last_check: LastCheck | null;
  certificate: DomainCertificateView | null;
  created_at: string;
  updated_at: string;
}

/** Builds the view of `row`, a domain of `project`, from the records to create and its certificate. */
export function domainView(
  row: DomainRow,
  project: string,
  records: DnsRecord[],
  certificate: CertificateRow | undefined,
): DomainView {
  return {
    id: row.id,
    hostname: row.hostname,
    project,
    redirect_to_https: row.redirect_to_https === 1,
    hsts: row.hsts === 1,
    status: row.status,
    reason: row.reason,
    next_attempt_at: row.next_attempt_at,
    dns_records: records,
    last_check: row.last_check ? (JSON.parse(row.last_check) as LastCheck) : null,
    certificate: certificate
      ? {
          issuer: certificate.issuer,
          not_before: certificate.not_before,
          not_after: certificate.not_after,
          serial: certificate.serial,
          source: certificate.source,
        }
      : null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
