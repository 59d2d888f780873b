import type { CertificateRepo } from '../db/certificates.ts';
import type { DomainRepo } from '../db/domains.ts';
import type { PlatformHostRepo } from '../db/platform-hosts.ts';
import type { ProjectRepo } from '../db/projects.ts';
import type { Logger } from '../log.ts';
import type { CertificateStore } from './certificate-store.ts';
import type { CertificateIssuerService } from './issuer.ts';

/** Suffixes of names no public CA issues for: a base domain under one of them gets no certificates. */
const PRIVATE_SUFFIXES = ['localhost', 'test', 'local', 'internal', 'invalid', 'example'];

/** What decides the names Slipway orders certificates for on its own. */
export interface PlatformSettings {
  baseDomain: string;
  apiDomain: string | null;
  /** ACME on (a directory) and an HTTPS listener: without both, nothing is ordered (nor dropped). */
  acme: boolean;
  https: boolean;
}

/** Whether a CA would issue for names under `baseDomain` (not localhost, *.test, *.local …). */
export function isPublicBaseDomain(baseDomain: string): boolean {
  const last = baseDomain.split('.').at(-1) ?? '';
  return baseDomain.includes('.') && !PRIVATE_SUFFIXES.includes(last);
}

/** The name an uploaded wildcard for the base domain is stored under. */
export function baseWildcard(baseDomain: string): string {
  return `*.${baseDomain}`;
}

/** What the platform pass works on. */
export interface PlatformHostsDeps {
  settings: PlatformSettings;
  hosts: PlatformHostRepo;
  projects: ProjectRepo;
  domains: DomainRepo;
  repo: CertificateRepo;
  store: CertificateStore;
  issuer: CertificateIssuerService;
  log: Logger;
  now: () => Date;
}

/**
 * Keeps the certificates Slipway owns without a domain row in step with the settings: the API
 * domain's, and each project's default host name's while the base domain is public and no wildcard
 * is uploaded for it. A pass adds the names that should have one, forgets the names that no longer
 * should, drops every stored certificate whose name has no domain, platform host or wildcard behind
 * it (a deleted domain or project), and, with ACME and HTTPS on, orders those due (new, failed past
 * their backoff, or left `issuing` by a process that died). Turning ACME or HTTPS off orders nothing
 * more but drops nothing either.
 */
export function platformHosts(d: PlatformHostsDeps) {
  const s = d.settings;
  const wanted = (): Map<string, string | null> => {
    const names = new Map<string, string | null>();
    if (s.apiDomain) names.set(s.apiDomain, null);
    if (isPublicBaseDomain(s.baseDomain) && !d.repo.find(baseWildcard(s.baseDomain))) {
      for (const p of d.projects.all()) names.set(`${p.name}.${s.baseDomain}`, p.id);
    }
    return names;
  };

  return {
    /** The names that should have a platform certificate now, with their project ids. */
    wanted,
    /** One pass; starts the orders due and returns without waiting for them. */
    pass(): Promise<void>[] {
      const names = wanted();
      for (const [hostname, projectId] of names) d.hosts.ensure(hostname, projectId);
      for (const row of d.hosts.all()) {
        if (names.has(row.hostname)) continue;
        d.hosts.remove(row.hostname);
        if (d.repo.find(row.hostname)?.source === 'acme') d.store.drop(row.hostname);
      }
      sweep();
      if (!s.acme || !s.https) return [];
      const now = d.now().toISOString();
      return d.hosts
        .all()
        .filter((row) => !d.issuer.busy(row.hostname))
        .filter(
          (row) =>
            row.status === 'issuing' ||
            (row.status !== 'active' && (row.next_attempt_at === null || row.next_attempt_at <= now)) ||
            (row.status === 'active' && !d.repo.find(row.hostname)),
        )
        .map((row) => d.issuer.issuePlatform(row.hostname));
    },
  };

  function sweep(): void {
    const keep = new Set([baseWildcard(s.baseDomain), ...d.hosts.all().map((h) => h.hostname)]);
    for (const domain of d.domains.all()) keep.add(domain.hostname);
    for (const row of d.repo.all()) {
      if (keep.has(row.hostname) || d.issuer.busy(row.hostname)) continue;
      d.store.drop(row.hostname);
      d.log.info('dropped the certificate of a name Slipway no longer serves', { hostname: row.hostname });
    }
  }
}

/** The platform hosts pass. */
export type PlatformHosts = ReturnType<typeof platformHosts>;
