import type { ActivityService } from '../activity/service.ts';
import type { CertificateRepo } from '../db/certificates.ts';
import type { DomainRepo, DomainRow } from '../db/domains.ts';
import type { ProjectRepo } from '../db/projects.ts';
import type { Logger } from '../log.ts';
import { type CertificateStore, expiredUpload } from './certificate-store.ts';
import { SYSTEM_ACTOR } from './orderer.ts';

/** How long the domain checker leaves a domain with an expired upload before looking again. */
const RECHECK_MS = 24 * 3600 * 1000;

/** What handling expired uploads needs. */
export interface ExpiredUploadDeps {
  repo: CertificateRepo;
  store: CertificateStore;
  domains: DomainRepo;
  projects: ProjectRepo;
  activity: ActivityService;
  log: Logger;
}

/**
 * Uploaded certificates past their not_after: Slipway never renews them, so each is withdrawn
 * from the edge (which then stops redirecting its name to HTTPS) and its domain fails with a
 * reason saying what to do. The row stays, so the API still shows it until it is replaced or deleted.
 */
export function expiredUploads(d: ExpiredUploadDeps) {
  const withdrawn = new Set<string>();

  /** Fails `domain` for its upload that expired at `notAfter`, once (a domain already failed so is left alone). */
  const flag = (domain: DomainRow, notAfter: string, now: Date): void => {
    const reason = `The uploaded certificate expired on ${notAfter}; upload a new one or delete it to get one from the CA`;
    if (domain.status === 'failed' && domain.reason === reason) return;
    // The checker looks again later; the upload keeps it from ordering (see the service's issue()).
    const next = new Date(now.getTime() + RECHECK_MS).toISOString();
    if (!d.domains.setStatus(domain.id, { status: 'failed', reason, next_attempt_at: next }, [domain.status])) return;
    d.activity.record(SYSTEM_ACTOR, {
      action: 'certificate.expired',
      targetType: 'certificate',
      target: domain.hostname,
      project: d.projects.all().find((p) => p.id === domain.project_id)?.name ?? null,
      changes: { source: 'uploaded', not_after: notAfter },
    });
  };

  return {
    flag,
    /** Withdraws every upload expired at `now` from the edge (once per certificate) and fails its domain. */
    pass(now: Date): void {
      for (const row of d.repo.all()) {
        if (!expiredUpload(row, now)) continue;
        if (!withdrawn.has(`${row.hostname} ${row.serial}`)) {
          withdrawn.add(`${row.hostname} ${row.serial}`);
          d.store.withdraw(row.hostname);
          d.log.warn('uploaded certificate expired; no longer served', {
            hostname: row.hostname,
            not_after: row.not_after,
          });
        }
        const domain = d.domains.byHostname(row.hostname);
        if (domain) flag(domain, row.not_after, now);
      }
    },
  };
}
