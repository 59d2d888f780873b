/**
 * The background loop of custom domains, started by `serve` like the reconciler: pending and
 * failed domains are checked again with backoff, verified ones handed to the certificate issuer.
 */
import type { DomainRepo, DomainRow } from '../db/domains.ts';
import type { Logger } from '../log.ts';
import { retryDelayMs, type DomainCheck } from './checks.ts';
import type { DomainGuard } from './guard.ts';
import type { OwnNames } from './hostname.ts';
import type { CertificateIssuer } from './issuer.ts';
import { ownNameReason, retireOwnNames } from './own-names.ts';
import type { HostEdge } from './routing.ts';

/** How often the checker looks for due domains. */
export const CHECK_INTERVAL_MS = 5000;
/** The most domains the checker works on at once. */
const CONCURRENCY = 4;

/** What the checker works with. */
export interface DomainCheckerDeps {
  repo: DomainRepo;
  guard: DomainGuard;
  check: DomainCheck;
  issuer: CertificateIssuer | null;
  /** Why no certificate is ordered for a name, or null when the issuer orders one. */
  noCertificate(hostname: string): string | null;
  /** Domains whose name has become one of these are failed and taken off this edge. */
  own: OwnNames;
  edge: HostEdge;
  log: Logger;
  intervalMs?: number;
  now?: () => number;
}

/** Finds due domains every few seconds and works on each under its guard. */
export class DomainChecker {
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly tasks = new Set<Promise<void>>();
  private readonly now: () => number;

  constructor(private readonly d: DomainCheckerDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Catches up with what changed while stopped, then runs a pass now and every interval. */
  start(): void {
    if (this.timer) return;
    this.recover();
    void this.pass();
    this.timer = setInterval(() => void this.pass(), this.d.intervalMs ?? CHECK_INTERVAL_MS);
  }

  /** Stops the loop and waits for the work it started. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.tasks);
  }

  /**
   * Retires domains whose name is now one of the agent's own, then starts work on every due domain
   * not being worked on (up to the concurrency); resolves when it ends.
   */
  pass(): Promise<void> {
    this.retire();
    const started: Promise<void>[] = [];
    for (const row of this.d.repo.due(new Date(this.now()).toISOString())) {
      if (this.tasks.size >= CONCURRENCY) break;
      if (ownNameReason(row.hostname, this.d.own) !== null) continue;
      const task = this.track(
        row,
        this.d.guard.tryRun(row.id, 'check', (now) => this.work(row.id, now)),
      );
      if (task) started.push(task);
    }
    return Promise.all(started).then(() => {});
  }

  /** Keeps `task` until it ends, so stop() can wait for it; its failure is logged, never thrown. */
  private track(row: DomainRow, task: Promise<void> | null): Promise<void> | null {
    if (!task) return null;
    const tracked = task.catch((err) =>
      this.d.log.warn('domain check failed', { hostname: row.hostname, error: String(err) }),
    );
    this.tasks.add(tracked);
    void tracked.finally(() => this.tasks.delete(tracked));
    return tracked;
  }

  /**
   * Settles what the settings of this start change: a verified domain's reason (ACME may have been
   * turned on or off), and a domain left issuing by a stop during its order, which goes back to the
   * issuer (or, without one, back to verified).
   */
  private recover(): void {
    this.retire();
    const now = new Date(this.now()).toISOString();
    for (const row of this.d.repo.all()) {
      if (row.status !== 'verified' && row.status !== 'issuing') continue;
      const reason = this.d.noCertificate(row.hostname);
      if (row.status === 'verified' && reason === row.reason) continue;
      if (row.status === 'issuing' && reason === null) {
        this.track(
          row,
          this.d.guard.tryRun(row.id, 'issue', () => this.issue(row)),
        );
        continue;
      }
      const next = reason === null ? now : row.next_attempt_at;
      this.d.repo.setStatus(row.id, { status: 'verified', reason, next_attempt_at: next }, [row.status]);
    }
  }

  /** Checks a pending or failed domain (or one verified without a certificate to order), then hands a verified one over. */
  private async work(id: string, now: (work: 'check' | 'issue') => void): Promise<void> {
    let row = this.d.repo.byId(id);
    if (!row) return;
    const issuing = row.status === 'verified' && this.d.noCertificate(row.hostname) === null;
    if (!issuing) row = await this.d.check(id).catch((err: unknown) => this.defer(row!, err));
    if (row?.status !== 'verified' || this.d.noCertificate(row.hostname) !== null) return;
    now('issue');
    await this.issue(row);
  }

  private retire(): void {
    try {
      retireOwnNames(this.d);
    } catch (err) {
      this.d.log.warn("retiring domains that are now the agent's own names failed", { error: String(err) });
    }
  }

  /** Puts off a domain whose check could not run (its database or route store failing) by the backoff. */
  private defer(row: DomainRow, err: unknown): undefined {
    this.d.log.warn('domain check failed', { hostname: row.hostname, error: String(err) });
    const attempts = row.attempts + 1;
    const next = new Date(this.now() + retryDelayMs(attempts)).toISOString();
    this.d.repo.setStatus(row.id, { status: row.status, reason: row.reason, next_attempt_at: next, attempts }, [
      row.status,
    ]);
    return undefined;
  }

  /** Hands a domain to the issuer and holds it to the contract of CertificateIssuer. */
  private async issue(row: DomainRow): Promise<void> {
    const { issuer, repo } = this.d;
    if (!issuer) return;
    const later = (attempts: number) => new Date(this.now() + retryDelayMs(attempts)).toISOString();
    try {
      await issuer.issue(row);
    } catch (err) {
      const reason = `Cannot order a certificate for ${row.hostname}: ${(err as Error).message}`;
      this.d.log.warn('certificate order failed', { hostname: row.hostname, error: String(err) });
      const attempts = row.attempts + 1;
      repo.setStatus(row.id, { status: 'failed', reason, next_attempt_at: later(attempts), attempts }, [
        'verified',
        'issuing',
      ]);
      return;
    }
    const after = repo.byId(row.id);
    if (
      after?.status !== 'verified' ||
      (after.next_attempt_at !== null && Date.parse(after.next_attempt_at) > this.now())
    )
      return;
    // The issuer left it due: defer it rather than hand it over again on the next pass.
    const attempts = after.attempts + 1;
    repo.setStatus(row.id, { status: 'verified', reason: after.reason, next_attempt_at: later(attempts), attempts }, [
      'verified',
    ]);
  }
}
