/**
 * Custom domains of projects: added, listed, changed, verified and removed through the API, each
 * change recorded in the activity log and published to the edge's route store in the same step.
 */
import type { ActivityService, Actor } from '../activity/service.ts';
import type { CertificateRepo } from '../db/certificates.ts';
import type { DomainRepo, DomainRow } from '../db/domains.ts';
import type { Db } from '../db/open.ts';
import { decodeCursor, toPage, type Page } from '../db/pagination.ts';
import type { ProjectRepo, ProjectRow } from '../db/projects.ts';
import type { HostEntry } from '../edge/route-store.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { newId, nowIso, randomToken } from '../ids.ts';
import type { Logger } from '../log.ts';
import { findProject } from '../projects/find.ts';
import { dnsRecords } from './addresses.ts';
import type { DomainCheck } from './checks.ts';
import type { DomainGuard } from './guard.ts';
import {
  canonicalHostname,
  normalizeHostname,
  type OwnNames,
  registeredDomain,
  reservedRegisteredDomain,
} from './hostname.ts';
import type { CertificateRemover } from './issuer.ts';
import { routeDomain } from './routing.ts';
import { domainView, type DomainView } from './view.ts';

/** Days a domain a deploy token added may stay unproven before another project may take the name. */
export const UNPROVEN_CLAIM_DAYS = 7;

/** The actor of changes the domain service makes on its own. */
const SYSTEM_RELEASE: Actor = { tokenId: null, tokenName: 'slipway', requestId: null, clientIp: null };

/** A domain added by a deploy token that never passed its checks (its TXT record never seen): never routed. */
function isUnprovenClaim(row: DomainRow): boolean {
  return row.ownership_token !== null && row.proven_at === null;
}

/** What the domain service works with. */
export interface DomainServiceDeps {
  db: Db;
  repo: DomainRepo;
  projects: Pick<ProjectRepo, 'findByName' | 'all'>;
  certificates: Pick<CertificateRepo, 'find'>;
  activity: ActivityService;
  edge: { putHost(host: HostEntry): number; removeHost(hostname: string): number };
  check: DomainCheck;
  guard: DomainGuard;
  own: OwnNames;
  publicIps: () => string[];
  /** Removes a deleted domain's certificate, when a certificate service runs. */
  certificateRemover: CertificateRemover | null;
  log: Logger;
}

/** The options of a domain a user sets. */
export interface DomainOptions {
  redirect_to_https?: boolean;
  hsts?: boolean;
}

/** Adds, lists, changes, verifies and removes custom domains. */
export function domainService(d: DomainServiceDeps) {
  const view = (row: DomainRow, project: string): DomainView =>
    domainView(
      row,
      project,
      dnsRecords(row.hostname, d.publicIps(), row.ownership_token),
      d.certificates.find(row.hostname),
    );

  /** The domain `raw` of project `p`; a 404 for a name that is not one of its domains (another project's included). */
  function find(p: ProjectRow, raw: string): DomainRow {
    const canonical = canonicalHostname(raw);
    const row = 'hostname' in canonical ? d.repo.byHostname(canonical.hostname) : undefined;
    if (!row || row.project_id !== p.id) throw new NotFoundError(`No domain "${raw}" in project "${p.name}"`);
    return row;
  }

  /** Runs a check of `row` now, or waits for the one already running; returns the row afterwards. */
  async function checkNow(row: DomainRow): Promise<DomainRow | undefined> {
    for (;;) {
      const running = d.guard.current(row.id);
      if (running?.work === 'issue') return d.repo.byId(row.id);
      if (running) {
        await running.done;
        return d.repo.byId(row.id);
      }
      const started = d.guard.tryRun(row.id, 'check', () => d.check(row.id));
      if (started) return started;
    }
  }

  function remove(actor: Actor, row: DomainRow, project: string, why?: string): void {
    d.db.transaction(() => {
      d.repo.remove(row.id);
      d.activity.record(actor, {
        action: 'domain.remove',
        targetType: 'domain',
        target: row.hostname,
        project,
        changes: why ? { because: why } : {},
      });
      d.edge.removeHost(row.hostname);
    })();
  }

  async function afterRemoval(row: DomainRow): Promise<void> {
    // A check in flight removes its own challenge when it ends; wait for that (checks are bounded
    // by their timeouts) so no leftover outlives the request. An order is the certificate
    // service's to stop, through removeCertificate.
    const running = d.guard.current(row.id);
    if (running?.work === 'check') await running.done;
    await d.certificateRemover?.removeCertificate(row.hostname);
  }

  /**
   * A name another project holds. An unproven claim (added by a deploy token, its TXT record never
   * seen, so never routed) must not block the name's real owner for ever: it lapses
   * UNPROVEN_CLAIM_DAYS after it was made, and an admin may release it at once; the lapsed claim is
   * removed, recorded in the activity log of the project that made it. Anything else is a 409.
   */
  const releaseUnprovenClaim = (taken: DomainRow, hostname: string, admin: boolean): void => {
    const lapses = new Date(Date.parse(taken.created_at) + UNPROVEN_CLAIM_DAYS * 24 * 3600 * 1000);
    if (!isUnprovenClaim(taken))
      throw new ConflictError(`Cannot add "${hostname}": the host name is taken by another project`);
    if (!admin && Date.now() < lapses.getTime())
      throw new ConflictError(
        `Cannot add "${hostname}": another project claimed it without proving it yet; the claim lapses at ${lapses.toISOString()} (an admin token may release it now)`,
      );
    d.repo.remove(taken.id);
    d.activity.record(SYSTEM_RELEASE, {
      action: 'domain.remove',
      targetType: 'domain',
      target: hostname,
      project: d.projects.all().find((p) => p.id === taken.project_id)?.name ?? null,
      changes: { reason: admin ? 'an unproven claim released by an admin' : 'an unproven claim lapsed' },
    });
  };

  return {
    /**
     * Adds a domain and runs its first check. `admin` (an admin token: the operator, trusted) routes
     * it at once and may take a name under a registered domain (example.com) that another project
     * uses or that the agent's own names use. Anyone else gets a 409 for those (one tenant must not
     * route itself a sibling of another tenant's name, nor spend the CA budget of the agent's own),
     * and must prove the name theirs with a TXT record: the domain is routed only once verified.
     */
    async add(
      actor: Actor,
      name: string,
      input: { hostname: string } & DomainOptions,
      admin = false,
    ): Promise<DomainView> {
      const p = findProject(d.projects, name);
      const hostname = normalizeHostname(input.hostname, d.own);
      const now = nowIso();
      const row: DomainRow = {
        id: newId('dom'),
        project_id: p.id,
        hostname,
        redirect_to_https: input.redirect_to_https === false ? 0 : 1,
        hsts: input.hsts === true ? 1 : 0,
        status: 'pending_dns',
        reason: null,
        attempts: 0,
        next_attempt_at: now,
        last_check: null,
        ownership_token: admin ? null : randomToken(32),
        proven_at: null,
        created_at: now,
        updated_at: now,
      };
      d.db.transaction(() => {
        const taken = d.repo.byHostname(hostname);
        if (taken?.project_id === p.id)
          throw new ConflictError(`Cannot add "${hostname}": project "${p.name}" already has it`);
        // Nothing about the other project is told: a token limited to this one may not learn it.
        if (taken) releaseUnprovenClaim(taken, hostname, admin);
        const reserved = reservedRegisteredDomain(hostname, d.own);
        if (!admin && reserved !== null)
          throw new ConflictError(
            `Cannot add "${hostname}": names under ${reserved} are reserved for the agent's own names; an admin token may add it`,
          );
        const registered = registeredDomain(hostname);
        const others = d.repo.all().filter((r) => r.project_id !== p.id && !isUnprovenClaim(r));
        if (!admin && others.some((r) => registeredDomain(r.hostname) === registered)) {
          throw new ConflictError(
            `Cannot add "${hostname}": another project uses names under ${registered}; an admin token may add it`,
          );
        }
        d.repo.insert(row);
        d.activity.record(actor, {
          action: 'domain.add',
          targetType: 'domain',
          target: hostname,
          project: p.name,
          changes: {
            redirect_to_https: row.redirect_to_https === 1,
            hsts: row.hsts === 1,
            ownership_proof: row.ownership_token !== null,
          },
        });
        routeDomain(d.repo, d.edge, d.own, row.id);
      })();
      // The domain is added whatever the first check does; the checker tries again when it fails to run.
      const checked = await checkNow(row).catch((err: unknown) => {
        d.log.warn('first domain check failed', { hostname, error: String(err) });
        return undefined;
      });
      return view(checked ?? d.repo.byId(row.id) ?? row, p.name);
    },

    /** A project's domains by host name, keyset-paginated. */
    list(name: string, q: { cursor?: string; limit: number }): Page<DomainView> {
      const p = findProject(d.projects, name);
      const list = `domains:${p.id}`;
      const after = decodeCursor(list, q.cursor, 'string') ?? '';
      const rows = d.repo
        .ofProject(p.id)
        .filter((r) => r.hostname > after)
        .slice(0, q.limit + 1);
      const page = toPage(rows, q.limit, (r) => r.hostname, list);
      return { data: page.data.map((r) => view(r, p.name)), pagination: page.pagination };
    },

    /** One domain of a project. */
    get(name: string, hostname: string): DomainView {
      const p = findProject(d.projects, name);
      return view(find(p, hostname), p.name);
    },

    /** Changes a domain's options; the edge follows at once. */
    update(actor: Actor, name: string, hostname: string, patch: DomainOptions): DomainView {
      const p = findProject(d.projects, name);
      return d.db.transaction(() => {
        const row = find(p, hostname);
        const next = {
          redirect_to_https: patch.redirect_to_https === undefined ? row.redirect_to_https : +patch.redirect_to_https,
          hsts: patch.hsts === undefined ? row.hsts : +patch.hsts,
        };
        const changes: Record<string, { from: boolean; to: boolean }> = {};
        for (const key of ['redirect_to_https', 'hsts'] as const)
          if (next[key] !== row[key]) changes[key] = { from: row[key] === 1, to: next[key] === 1 };
        if (Object.keys(changes).length === 0) return view(row, p.name);
        d.repo.setOptions(row.id, next);
        d.activity.record(actor, {
          action: 'domain.update',
          targetType: 'domain',
          target: row.hostname,
          project: p.name,
          changes,
        });
        const updated = d.repo.byId(row.id)!;
        routeDomain(d.repo, d.edge, d.own, row.id);
        return view(updated, p.name);
      })();
    },

    /** Removes a domain: the edge stops routing it, and its certificate goes. */
    async remove(actor: Actor, name: string, hostname: string): Promise<void> {
      const p = findProject(d.projects, name);
      const row = find(p, hostname);
      remove(actor, row, p.name);
      await afterRemoval(row);
    },

    /** Runs the checks now (or joins the one running) and records what changed. */
    async verify(actor: Actor, name: string, hostname: string): Promise<DomainView> {
      const p = findProject(d.projects, name);
      const row = find(p, hostname);
      const after = (await checkNow(row)) ?? row;
      d.activity.record(actor, {
        action: 'domain.verify',
        targetType: 'domain',
        target: row.hostname,
        project: p.name,
        changes: {
          status: { from: row.status, to: after.status },
          found: after.last_check ? JSON.parse(after.last_check).message : null,
        },
      });
      return view(after, p.name);
    },

    /** Removes every domain of a project being deleted, each recorded; called by the project's teardown. */
    async removeProject(actor: Actor, name: string): Promise<void> {
      const p = findProject(d.projects, name);
      const rows = d.repo.ofProject(p.id);
      for (const row of rows) remove(actor, row, p.name, `project "${p.name}" deleted`);
      for (const row of rows) await afterRemoval(row);
    },
  };
}

/** The domain service. */
export type DomainService = ReturnType<typeof domainService>;
