import type { ActivityService, Actor } from '../activity/service.ts';
import type { CertificateRepo } from '../db/certificates.ts';
import type { DomainRepo, DomainRow } from '../db/domains.ts';
import type { Db } from '../db/open.ts';
import type { ProjectRepo } from '../db/projects.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { canonicalHostname, type OwnNames, refusal } from '../domains/hostname.ts';
import { findProject } from '../projects/find.ts';
import type { CertificateStore } from './certificate-store.ts';
import { checkUpload } from './pem.ts';
import { baseWildcard } from './platform-hosts.ts';
import { type CertificateView, certificateView } from './view.ts';

/** A certificate brought by the user: the PEM chain (leaf first) and its unencrypted PEM key. */
export interface CertificateUpload {
  certificate: string;
  private_key: string;
}

/** What uploads need. */
export interface UploadDeps {
  db: Db;
  repo: CertificateRepo;
  store: CertificateStore;
  domains: DomainRepo;
  projects: ProjectRepo;
  activity: ActivityService;
  baseDomain: string;
  apiDomain: string | null;
  now: () => Date;
  /** Runs the platform pass soon: a wildcard changes which default host names need their own certificate. */
  wildcardChanged: () => void;
}

/**
 * Certificates the user brings: one per custom domain, and a wildcard for the base domain that
 * covers every project's default host name. They are checked (readable, key matching the leaf,
 * covering the name, valid now), stored sealed like ordered ones, never renewed, and served at once.
 */
export function certificateUploads(d: UploadDeps) {
  const domainOf = (project: string, hostname: string): { domain: DomainRow; project: string } => {
    const p = findProject(d.projects, project);
    const name = normalizeHostname(hostname);
    const domain = d.domains.byHostname(name);
    if (!domain || domain.project_id !== p.id) throw new NotFoundError(`No domain "${name}" in project "${p.name}"`);
    refuseOwnName(name, { baseDomain: d.baseDomain, apiDomain: d.apiDomain });
    return { domain, project: p.name };
  };
  const record = (actor: Actor, action: string, target: string, project: string | null, changes = {}) =>
    d.activity.record(actor, { action, targetType: 'certificate', target, project, changes });
  const facts = (v: CertificateView) => ({ issuer: v.issuer, serial: v.serial, not_after: v.not_after });

  return {
    /** Stores the certificate of a project's domain; the domain becomes active. */
    putForDomain(actor: Actor, project: string, hostname: string, upload: CertificateUpload): CertificateView {
      const { domain, project: name } = domainOf(project, hostname);
      // An uploaded certificate would make it active, and so routed, before its ownership is proven.
      if (domain.ownership_token !== null && domain.status === 'pending_dns')
        throw new ConflictError(
          `Cannot upload a certificate for ${domain.hostname}: its ownership is not proven yet (see the domain's dns_records)`,
        );
      const checked = checkUpload(upload.certificate, upload.private_key, domain.hostname, d.now());
      return d.db.transaction(() => {
        const row = d.store.save(domain.hostname, 'uploaded', checked.chainPem, checked.keyPem);
        d.domains.setStatus(domain.id, { status: 'active', reason: null, next_attempt_at: null, attempts: 0 });
        const view = certificateView(row, name, d.now());
        record(actor, 'certificate.upload', domain.hostname, name, facts(view));
        return view;
      })();
    },

    /**
     * Drops a domain's certificate (uploaded or ordered). The domain goes back to pending_dns, so
     * the checker verifies it again and, with ACME on, orders a new one.
     */
    removeForDomain(actor: Actor, project: string, hostname: string): void {
      const { domain, project: name } = domainOf(project, hostname);
      d.db.transaction(() => {
        const row = d.repo.find(domain.hostname);
        if (!row) throw new NotFoundError(`Domain "${domain.hostname}" has no certificate`);
        d.store.drop(domain.hostname);
        d.domains.setStatus(domain.id, { status: 'pending_dns', reason: null, next_attempt_at: null, attempts: 0 });
        record(actor, 'certificate.delete', domain.hostname, name, { source: row.source, serial: row.serial });
      })();
    },

    /** The base domain's wildcard, or a 404. */
    getWildcard(): CertificateView {
      const row = d.repo.find(baseWildcard(d.baseDomain));
      if (!row) throw noWildcard(d.baseDomain);
      return certificateView(row, null, d.now());
    },

    /** Stores the wildcard for the base domain; it must name `*.<base-domain>` itself. */
    putWildcard(actor: Actor, upload: CertificateUpload): CertificateView {
      const name = baseWildcard(d.baseDomain);
      const checked = checkUpload(upload.certificate, upload.private_key, name, d.now());
      const view = d.db.transaction(() => {
        const row = d.store.save(name, 'uploaded', checked.chainPem, checked.keyPem);
        const view = certificateView(row, null, d.now());
        record(actor, 'certificate.upload', name, null, facts(view));
        return view;
      })();
      d.wildcardChanged();
      return view;
    },

    /** Drops the wildcard; with ACME on, default host names get certificates of their own again. */
    removeWildcard(actor: Actor): void {
      const name = baseWildcard(d.baseDomain);
      d.db.transaction(() => {
        const row = d.repo.find(name);
        if (!row) throw noWildcard(d.baseDomain);
        d.store.drop(name);
        record(actor, 'certificate.delete', name, null, { source: row.source, serial: row.serial });
      })();
      d.wildcardChanged();
    },
  };
}

/** Uploaded certificates. */
export type CertificateUploads = ReturnType<typeof certificateUploads>;

/** A host name as domains are stored (lower case, punycode, no trailing dot); as given, trimmed, when it is none. */
export function normalizeHostname(hostname: string): string {
  const canonical = canonicalHostname(hostname);
  return 'hostname' in canonical ? canonical.hostname : hostname.trim().toLowerCase();
}

/**
 * A 409 when a domain's name has become one of the agent's own (SLIPWAY_API_DOMAIN or under
 * SLIPWAY_BASE_DOMAIN): its certificate is the platform's, and no tenant may upload, drop or renew it.
 */
export function refuseOwnName(hostname: string, own: OwnNames): void {
  const why = refusal(hostname, own);
  if (why !== null)
    throw new ConflictError(
      `Cannot change the certificate of ${hostname}: the name is now one of the agent's own (${why})`,
    );
}

function noWildcard(baseDomain: string): NotFoundError {
  return new NotFoundError(`No wildcard certificate for ${baseWildcard(baseDomain)}`);
}
