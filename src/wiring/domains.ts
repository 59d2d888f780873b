/**
 * The fourth stage of createDeps (deps.ts): custom domains and their certificates. The certificate
 * service orders certificates for verified domains and removes a deleted domain's.
 */
import type { Config } from '../config.ts';
import type { DepsOptions } from '../deps.ts';
import { createDomains } from '../domains/setup.ts';
import { certificateService } from '../certificates/service.ts';
import type { Core } from './core.ts';

/** The certificate service, the domain service and the checker of pending domains. */
export function domainParts(config: Config, options: DepsOptions, core: Core) {
  const { db, log, edge, activity, repos } = core;
  const certificates = certificateService({ config, db, box: core.box, edge, activity, log, ...options.certificates });
  const domains = createDomains({
    config,
    db,
    repo: repos.domains,
    projects: repos.projects,
    certificates: repos.certificates,
    activity,
    edge,
    log,
    issuer: certificates,
    certificateRemover: certificates,
  });
  return { certificates, domains };
}
