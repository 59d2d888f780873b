/** Assembles the domain parts from the settings: verification, checks, the service and the checker. */
import type { ActivityService } from '../activity/service.ts';
import type { Config } from '../config.ts';
import type { CertificateRepo } from '../db/certificates.ts';
import type { DomainRepo } from '../db/domains.ts';
import type { Db } from '../db/open.ts';
import type { ProjectRepo } from '../db/projects.ts';
import type { Logger } from '../log.ts';
import type { EdgeRoutes } from '../release/edge-routes.ts';
import { publicAddresses } from './addresses.ts';
import { DomainChecker } from './checker.ts';
import { domainChecks } from './checks.ts';
import { DomainGuard } from './guard.ts';
import { noCertificateBecause, type CertificateIssuer, type CertificateRemover } from './issuer.ts';
import { dnsLookup, dnsTxtLookup } from './resolve.ts';
import type { SelfCheckOptions } from './self-check.ts';
import { domainService, type DomainService } from './service.ts';
import { domainVerifier } from './verify.ts';

/** Per request of the HTTP self-check, and the wait for the edge to apply its token. */
const SELF_CHECK_TIMEOUT_MS = 3000;

/** What the domain parts are made of. */
export interface DomainsSetup {
  config: Pick<
    Config,
    'baseDomain' | 'apiDomain' | 'dnsServers' | 'publicIps' | 'httpListen' | 'httpsListen' | 'acmeDirectory'
  >;
  db: Db;
  repo: DomainRepo;
  projects: Pick<ProjectRepo, 'findByName' | 'all'>;
  certificates: Pick<CertificateRepo, 'find'>;
  activity: ActivityService;
  edge: Pick<EdgeRoutes, 'putHost' | 'removeHost' | 'putChallenge' | 'removeChallenge' | 'progress'>;
  log: Logger;
  /** The certificate service, once there is one: it orders certificates for verified domains. */
  issuer: CertificateIssuer | null;
  /** The certificate service's clean-up when a domain is deleted. */
  certificateRemover: CertificateRemover | null;
}

/** The domain service and its background checker, sharing one guard. */
export function createDomains(s: DomainsSetup): { service: DomainService; checker: DomainChecker } {
  const { config } = s;
  const guard = new DomainGuard();
  const publicIps = () => publicAddresses(config.publicIps);
  const noCertificate = (hostname: string) =>
    noCertificateBecause(
      { issuer: s.issuer, acmeDirectory: config.acmeDirectory, https: config.httpsListen !== null },
      hostname,
    );
  const selfCheck: SelfCheckOptions | { unavailable: string } =
    config.httpListen.port === 0
      ? { unavailable: 'the edge listens on a port chosen at start (SLIPWAY_HTTP_LISTEN ends in :0)' }
      : {
          edge: s.edge,
          port: config.httpListen.port,
          timeoutMs: SELF_CHECK_TIMEOUT_MS,
          applyTimeoutMs: SELF_CHECK_TIMEOUT_MS,
        };
  const own = { baseDomain: config.baseDomain, apiDomain: config.apiDomain };
  const check = domainChecks({
    repo: s.repo,
    verify: domainVerifier({
      lookup: dnsLookup(config.dnsServers),
      lookupTxt: dnsTxtLookup(config.dnsServers),
      publicIps,
      selfCheck,
    }),
    noCertificate,
    edge: s.edge,
    own,
  });
  const service = domainService({
    db: s.db,
    repo: s.repo,
    projects: s.projects,
    certificates: s.certificates,
    activity: s.activity,
    edge: s.edge,
    check,
    guard,
    own,
    publicIps,
    certificateRemover: s.certificateRemover,
    log: s.log,
  });
  const checker = new DomainChecker({
    repo: s.repo,
    guard,
    check,
    issuer: s.issuer,
    noCertificate,
    own,
    edge: s.edge,
    log: s.log,
  });
  return { service, checker };
}
