import type { ActivityService } from '../activity/service.ts';
import type { CertificateRepo, CertificateRow } from '../db/certificates.ts';
import type { DomainRepo, DomainRow } from '../db/domains.ts';
import type { PlatformHostRepo } from '../db/platform-hosts.ts';
import type { ProjectRepo } from '../db/projects.ts';
import type { Logger } from '../log.ts';
import type { Db } from '../db/open.ts';
import type { CertificateStore } from './certificate-store.ts';
import { OrderFailure } from './order-failure.ts';
import { type Orderer, SYSTEM_ACTOR } from './orderer.ts';

/** The first wait after a failed order; each further failure doubles it, up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 5 * 60 * 1000;
const MAX_BACKOFF_MS = 24 * 3600 * 1000;

/** When to try again after the `attempts`-th failure in a row: 5 min, 10 min, 20 min … at most 24 h. */
export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.max(0, attempts - 1));
}

/** What issuing and renewing need. */
export interface IssuerDeps {
  db: Db;
  orderer: Orderer;
  store: CertificateStore;
  repo: CertificateRepo;
  domains: DomainRepo;
  hosts: PlatformHostRepo;
  projects: ProjectRepo;
  activity: ActivityService;
  log: Logger;
  now: () => Date;
}

/** Where a name's certificate status is written: a domain row or a platform host row. */
interface Subject {
  hostname: string;
  projectId: string | null;
  /** Failures so far, before this attempt. */
  attempts: number;
  /** Whether the name still wants a certificate (it may have been removed during the order). */
  exists(): boolean;
  /** Moves the name to issuing; false when it has moved on (removed, uploaded meanwhile) and wants no order. */
  issuing(): boolean;
  active(): void;
  failed(reason: string, nextAttemptAt: string, attempts: number): void;
}

/**
 * Orders the first certificate of a name and renews it, at most one at a time per name in this
 * process (a second call while one runs gets the same promise). Only the domain checker, the
 * platform hosts pass, the renewal loop and the renew endpoint call it: a redeploy never does.
 */
export function certificateIssuer(d: IssuerDeps) {
  const running = new Map<string, Promise<unknown>>();
  const once = <T>(hostname: string, run: () => Promise<T>): Promise<T> => {
    const current = running.get(hostname);
    if (current) return current as Promise<T>;
    const p = run().finally(() => running.delete(hostname));
    running.set(hostname, p);
    return p;
  };
  const projectName = (id: string | null) => (id ? (d.projects.all().find((p) => p.id === id)?.name ?? null) : null);

  // Never rejects: the domain checker and the platform pass fire and forget.
  const first = (s: Subject): Promise<void> =>
    once(s.hostname, async () => {
      if (!s.issuing()) return;
      try {
        const issued = await d.orderer.order(s.hostname, s.projectId);
        // Removed or uploaded meanwhile: the name no longer wants this certificate.
        const wanted = () => s.exists() && d.repo.find(s.hostname)?.source !== 'uploaded';
        if (!wanted()) {
          d.log.info('certificate issued for a name that no longer wants it; not stored', { hostname: s.hostname });
          return;
        }
        // "active" promises HTTPS works: the edge gets the certificate first (a stopped edge gets it when it starts).
        if (!(await d.orderer.waitForEdge(d.store.preview(s.hostname, issued.chainPem, issued.keyPem)))) {
          d.log.warn('the edge has not applied a new certificate yet; recording it anyway', { hostname: s.hostname });
        }
        // Checked again where it is stored: a delete or an upload may have landed while the edge applied it.
        const stored = d.db.transaction(() => {
          if (!wanted()) return false;
          const row = d.store.save(s.hostname, 'acme', issued.chainPem, issued.keyPem);
          s.active();
          record('certificate.issue', row, s.projectId);
          return true;
        })();
        if (!stored) {
          d.store.unpreview(s.hostname);
          d.log.info('certificate issued for a name that no longer wants it; withdrawn from the edge', {
            hostname: s.hostname,
          });
        }
      } catch (err) {
        const failure = asFailure(err);
        const attempts = s.attempts + 1;
        const next = failure.nextAttempt(d.now(), backoffMs(attempts)).toISOString();
        if (s.exists()) s.failed(failure.message, next, attempts);
        d.log.warn('certificate order failed', {
          hostname: s.hostname,
          reason: failure.message,
          next_attempt_at: next,
        });
        d.activity.record(SYSTEM_ACTOR, {
          action: 'certificate.issue_failed',
          targetType: 'certificate',
          target: s.hostname,
          project: projectName(s.projectId),
          changes: { reason: failure.message, attempts, next_attempt_at: next },
        });
      }
    }).then(
      () => undefined,
      (err: unknown) =>
        d.log.error('certificate order ended unexpectedly', { hostname: s.hostname, error: String(err) }),
    );

  const record = (action: string, row: CertificateRow, projectId: string | null) =>
    d.activity.record(SYSTEM_ACTOR, {
      action,
      targetType: 'certificate',
      target: row.hostname,
      project: projectName(projectId),
      changes: { issuer: row.issuer, serial: row.serial, not_before: row.not_before, not_after: row.not_after },
    });

  return {
    /** Orders the certificate of a verified domain: issuing, then active or failed with the CA's reason. */
    issue(domain: DomainRow): Promise<void> {
      const fresh = () => d.domains.byHostname(domain.hostname);
      return first({
        hostname: domain.hostname,
        projectId: domain.project_id,
        attempts: fresh()?.attempts ?? domain.attempts,
        exists: () => fresh()?.id === domain.id,
        issuing: () =>
          d.domains.setStatus(domain.id, { status: 'issuing', reason: null, next_attempt_at: null }, [
            'verified',
            'failed',
            'issuing',
          ]),
        active: () =>
          void d.domains.setStatus(domain.id, { status: 'active', reason: null, next_attempt_at: null, attempts: 0 }, [
            'issuing',
          ]),
        failed: (reason, next, attempts) =>
          void d.domains.setStatus(domain.id, { status: 'failed', reason, next_attempt_at: next, attempts }, [
            'issuing',
          ]),
      });
    },

    /** Orders the certificate of a platform host name (a project's default host name, the API domain). */
    issuePlatform(hostname: string): Promise<void> {
      const row = d.hosts.find(hostname);
      if (!row) return Promise.resolve();
      return first({
        hostname,
        projectId: row.project_id,
        attempts: row.attempts,
        exists: () => d.hosts.find(hostname) !== undefined,
        issuing: () => {
          d.hosts.setStatus(hostname, { status: 'issuing', reason: null, next_attempt_at: null });
          return true;
        },
        active: () =>
          d.hosts.setStatus(hostname, { status: 'active', reason: null, next_attempt_at: null, attempts: 0 }),
        failed: (reason, next, attempts) =>
          d.hosts.setStatus(hostname, { status: 'failed', reason, next_attempt_at: next, attempts }),
      });
    },

    /**
     * Replaces an ACME certificate with a new one (new key, new serial). On failure the old one
     * keeps being served, the failure is recorded with its backoff, and an OrderFailure is thrown.
     */
    renew(hostname: string, projectId: string | null): Promise<CertificateRow> {
      return once(hostname, async () => {
        const before = d.repo.find(hostname);
        try {
          if (before?.source !== 'acme') throw new OrderFailure(`${hostname} has no certificate Slipway ordered`);
          const issued = await d.orderer.order(hostname, projectId);
          if (d.repo.find(hostname)?.source !== 'acme')
            throw new OrderFailure(`${hostname} changed during the renewal`);
          return d.db.transaction(() => {
            const row = d.store.save(hostname, 'acme', issued.chainPem, issued.keyPem);
            record('certificate.renew', row, projectId);
            return row;
          })();
        } catch (err) {
          const failure = asFailure(err);
          if (before?.source === 'acme' && d.repo.find(hostname)) {
            const next = failure.nextAttempt(d.now(), backoffMs(before.renew_failures + 1)).toISOString();
            d.repo.renewalFailed(hostname, failure.message, next);
            d.log.warn('certificate renewal failed', { hostname, reason: failure.message, next_attempt_at: next });
            d.activity.record(SYSTEM_ACTOR, {
              action: 'certificate.renew_failed',
              targetType: 'certificate',
              target: hostname,
              project: projectName(projectId),
              changes: { reason: failure.message, failures: before.renew_failures + 1, next_attempt_at: next },
            });
          }
          throw failure;
        }
      });
    },

    /** Whether an order for `hostname` runs in this process now. */
    busy: (hostname: string): boolean => running.has(hostname),
  };
}

/** Orders and renews certificates. */
export type CertificateIssuerService = ReturnType<typeof certificateIssuer>;

function asFailure(err: unknown): OrderFailure {
  if (err instanceof OrderFailure) return err;
  return new OrderFailure(`Cannot order the certificate: ${(err as Error)?.message ?? String(err)}`);
}
