import type { ActivityService, Actor } from '../activity/service.ts';
import type { Config } from '../config.ts';
import { certificateRepo, type CertificateRow } from '../db/certificates.ts';
import { domainRepo, type DomainRow } from '../db/domains.ts';
import type { Db } from '../db/open.ts';
import { platformHostRepo } from '../db/platform-hosts.ts';
import { projectRepo } from '../db/projects.ts';
import { AppError, ConflictError, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { CertificateMetric } from '../observe/prometheus.ts';
import { findProject } from '../projects/find.ts';
import type { EdgeRoutes } from '../release/edge-routes.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { acmeAccount } from './acme-account.ts';
import { configureAcmeHttp } from './acme-http.ts';
import { certificateStore, expiredUpload } from './certificate-store.ts';
import { certificateIssuer } from './issuer.ts';
import { OrderFailure } from './order-failure.ts';
import { expiredUploads } from './expired-uploads.ts';
import { orderer } from './orderer.ts';
import { platformHosts } from './platform-hosts.ts';
import type { OrderLimits } from './rate-limits.ts';
import { certificateUploads, normalizeHostname, refuseOwnName } from './uploads.ts';
import { type CertificateView, certificateView, EXPIRY_WARNING_DAYS } from './view.ts';

/** What the certificate service is built from. */
export interface CertificateServiceDeps {
  config: Pick<Config, 'acmeDirectory' | 'acmeEmail' | 'acmeCaFile' | 'httpsListen' | 'baseDomain' | 'apiDomain'>;
  db: Db;
  box: SecretBox;
  edge: Pick<EdgeRoutes, 'putCertificate' | 'removeCertificate' | 'putChallenge' | 'removeChallenge' | 'progress'>;
  activity: ActivityService;
  log: Logger;
  /** The clock renewals, backoffs and rate-limit windows are measured by (tests move it). */
  now?: () => Date;
  /** How the CA's order and challenge status is polled. */
  polling?: { minMs: number; maxMs: number; attempts: number };
  /** How long to wait for the edge to serve a challenge. */
  challengeWaitMs?: number;
  limits?: OrderLimits;
}

/** What tests may set: the clock, how fast the CA is polled, the rate limits. */
export type CertificateTuning = Partial<Pick<CertificateServiceDeps, 'now' | 'polling' | 'challengeWaitMs' | 'limits'>>;

/**
 * Certificates end to end: ordering from the ACME server (for verified domains, the API domain and
 * default host names), renewal, uploads, and what the API, /metrics and the edge read of them.
 */
export function certificateService(d: CertificateServiceDeps) {
  const now = d.now ?? (() => new Date());
  const repo = certificateRepo(d.db);
  const domains = domainRepo(d.db);
  const hosts = platformHostRepo(d.db);
  const projects = projectRepo(d.db);
  const store = certificateStore({ db: d.db, repo, box: d.box, edge: d.edge, log: d.log, now });
  const directory = d.config.acmeDirectory;
  if (directory) configureAcmeHttp(d.config.acmeCaFile);
  const account = acmeAccount({
    db: d.db,
    box: d.box,
    directoryUrl: directory ?? '',
    email: d.config.acmeEmail,
    polling: d.polling ?? { minMs: 1000, maxMs: 10_000, attempts: 12 },
  });
  const orders = orderer({
    repo,
    account,
    edge: d.edge,
    activity: d.activity,
    log: d.log,
    now,
    challengeWaitMs: d.challengeWaitMs ?? 5000,
    limits: d.limits,
  });
  const issuer = certificateIssuer({
    db: d.db,
    orderer: orders,
    store,
    repo,
    domains,
    hosts,
    projects,
    activity: d.activity,
    log: d.log,
    now,
  });
  const platform = platformHosts({
    settings: {
      baseDomain: d.config.baseDomain,
      apiDomain: d.config.apiDomain,
      acme: directory !== null,
      https: d.config.httpsListen !== null,
    },
    hosts,
    projects,
    domains,
    repo,
    store,
    issuer,
    log: d.log,
    now,
  });
  // One pass at a time: a pass asked for while one runs (the loop's, an upload's) shares it.
  let passing: Promise<void> | null = null;
  const pass = (): Promise<void> =>
    (passing ??= (async () => {
      const started = [...platform.pass(), ...renewDue()];
      warnExpiring();
      expired.pass(now());
      await Promise.all(started);
    })().finally(() => {
      passing = null;
    }));
  const uploads = certificateUploads({
    db: d.db,
    repo,
    store,
    domains,
    projects,
    activity: d.activity,
    baseDomain: d.config.baseDomain,
    apiDomain: d.config.apiDomain,
    now,
    wildcardChanged: () => void pass().catch((err) => d.log.warn('certificate pass failed', { error: String(err) })),
  });

  const projectIdOf = (hostname: string) =>
    domains.byHostname(hostname)?.project_id ?? hosts.find(hostname)?.project_id ?? null;
  const names = () => new Map(projects.all().map((p) => [p.id, p.name]));

  function renewDue(): Promise<void>[] {
    if (!directory) return [];
    return repo
      .dueForRenewal(now().toISOString())
      .filter((row) => !issuer.busy(row.hostname))
      .map((row) =>
        issuer.renew(row.hostname, projectIdOf(row.hostname)).then(
          () => undefined,
          () => undefined, // recorded with its backoff; the old certificate keeps being served
        ),
      );
  }

  const warned = new Set<string>();
  function warnExpiring(): void {
    for (const row of repo.all()) {
      const view = certificateView(row, null, now());
      if (view.days_left >= EXPIRY_WARNING_DAYS || warned.has(`${row.hostname} ${row.serial}`)) continue;
      warned.add(`${row.hostname} ${row.serial}`);
      d.log.warn('certificate expires soon', { hostname: row.hostname, source: row.source, not_after: row.not_after });
    }
  }

  const expired = expiredUploads({ repo, store, domains, projects, activity: d.activity, log: d.log });

  return {
    /**
     * The domain checker's CertificateIssuer: orders a verified domain's certificate; never rejects.
     * A name with an uploaded certificate gets no order (deleting the upload hands it back to the CA).
     */
    issue(domain: DomainRow): Promise<void> {
      if (!directory) return Promise.resolve();
      const uploaded = repo.find(domain.hostname);
      if (uploaded?.source === 'uploaded') {
        if (expiredUpload(uploaded, now())) expired.flag(domain, uploaded.not_after, now());
        return Promise.resolve();
      }
      return issuer.issue(domain);
    },

    /**
     * One pass of the certificate loop: platform host names, renewals due, expiry warnings
     * (domains left issuing by a stop are handed over again by the domain checker). Resolves when the orders it started have ended.
     */
    pass,

    /**
     * Renews a domain's certificate now (or orders its first one). The shared ACME account's limits
     * are guarded: a failure's backoff holds for everyone (429 with the time), and a certificate
     * not yet in its renewal window (the last third of its lifetime) is renewed early only for an
     * admin (`early`); the CA's weekly limit and the per-project cap still apply.
     */
    async renewNow(
      actor: Actor,
      project: string,
      hostname: string,
      opts: { early: boolean } = { early: false },
    ): Promise<CertificateView> {
      const p = findProject(projects, project);
      const name = normalizeHostname(hostname);
      const domain = domains.byHostname(name);
      if (!domain || domain.project_id !== p.id) throw new NotFoundError(`No domain "${name}" in project "${p.name}"`);
      refuseOwnName(name, { baseDomain: d.config.baseDomain, apiDomain: d.config.apiDomain });
      const refuse = (why: string) => new ConflictError(`Cannot renew the certificate of ${name}: ${why}`);
      if (!directory) throw refuse('certificates are not ordered (SLIPWAY_ACME_DIRECTORY is off)');
      const current = repo.find(name);
      if (current?.source === 'uploaded') throw refuse('it was uploaded; upload its successor instead');
      if (!current && domain.status === 'pending_dns') throw refuse('its DNS is not verified yet');
      if (issuer.busy(name)) throw refuse('an order for it is already running');
      checkRenewable(name, current, domain, now(), opts.early);
      d.activity.record(actor, {
        action: 'certificate.renew_request',
        targetType: 'certificate',
        target: name,
        project: p.name,
      });
      if (current) {
        await issuer.renew(name, p.id).catch((err: unknown) => {
          throw asHttpError(name, err, now());
        });
      } else {
        await issuer.issue(domain);
        const after = domains.byHostname(name);
        if (after?.status === 'failed')
          throw asHttpError(name, new OrderFailure(after.reason ?? 'the order failed'), now());
      }
      const row = repo.find(name);
      if (!row) throw refuse('the domain was removed meanwhile');
      return certificateView(row, p.name, now());
    },

    /** Every stored certificate, or those of the projects in `only`. */
    list(only: string[] | null): CertificateView[] {
      const byId = names();
      return repo
        .all()
        .map((row) => {
          const id = projectIdOf(row.hostname);
          return certificateView(row, id ? (byId.get(id) ?? null) : null, now());
        })
        .filter((v) => only === null || (v.project !== null && only.includes(v.project)));
    },

    /** Expiry and renewal state of every certificate, for /metrics. */
    metrics(): CertificateMetric[] {
      return repo.all().map((row) => ({
        hostname: row.hostname,
        source: row.source,
        notAfter: row.not_after,
        daysLeft: certificateView(row, null, now()).days_left,
        expiryWarningDays: EXPIRY_WARNING_DAYS,
        renewFailures: row.renew_failures,
        lastRenewFailureAt: row.renew_failures > 0 ? row.updated_at : null,
      }));
    },

    /** The stored facts of one name's certificate (never its key), or null. */
    find(hostname: string): CertificateView | null {
      const row = repo.find(hostname);
      if (!row) return null;
      const id = projectIdOf(hostname);
      return certificateView(row, id ? (names().get(id) ?? null) : null, now());
    },

    /**
     * The domain service's CertificateRemover: a deleted domain's certificate stops being served
     * and is forgotten, and a pending order of the name is abandoned (an order still running finds
     * the domain gone and stores nothing).
     */
    removeCertificate(hostname: string): void {
      store.drop(hostname);
      repo.orders.abandon(hostname, '9999-12-31T23:59:59.999Z', 'Abandoned: the domain was deleted');
    },

    /** Every certificate with its key unsealed, for the route store. */
    published: store.published,
    uploads,
    /** The clock this service runs on. */
    now,
  };
}

/** The certificate service. */
export type CertificateService = ReturnType<typeof certificateService>;

/**
 * Throws unless a renewal of `name` requested now may place an order: 429 while the last failure's
 * backoff runs (a renewal's or the domain's first order's), 409 before the renewal window unless
 * `early` (an admin) or a failure made it due.
 */
function checkRenewable(
  name: string,
  current: CertificateRow | undefined,
  domain: DomainRow,
  now: Date,
  early: boolean,
): void {
  const nextAt = current ? current.renew_next_at : domain.status === 'failed' ? domain.next_attempt_at : null;
  if (nextAt && Date.parse(nextAt) > now.getTime()) {
    const seconds = Math.max(1, Math.ceil((Date.parse(nextAt) - now.getTime()) / 1000));
    throw new AppError(
      'rate_limited',
      `Cannot renew the certificate of ${name}: the last attempt failed; it may run again at ${nextAt}`,
      undefined,
      { 'Retry-After': String(seconds) },
    );
  }
  if (!current || early || current.renew_failures > 0) return;
  if (current.renew_at && Date.parse(current.renew_at) > now.getTime()) {
    throw new ConflictError(
      `Cannot renew the certificate of ${name}: it is not due for renewal before ${current.renew_at}; an admin token may renew it earlier`,
    );
  }
}

function asHttpError(hostname: string, err: unknown, now: Date): AppError {
  if (!(err instanceof OrderFailure)) return err as AppError;
  if (err.limited) {
    const seconds = Math.max(1, Math.ceil((err.nextAttempt(now, 0).getTime() - now.getTime()) / 1000));
    return new AppError('rate_limited', err.message, undefined, { 'Retry-After': String(seconds) });
  }
  return new ConflictError(`Cannot renew the certificate of ${hostname}: ${err.message}`);
}
