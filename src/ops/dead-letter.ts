/**
 * The dead-letter view: what gave up, in one list, newest first: failed deployments with their
 * reasons, webhook deliveries out of retries, failed backups and failing certificate renewals.
 * Each item names its retry, and retry() re-queues the right thing with the access rule of the
 * thing itself: a deployment or a domain's certificate with a deploy token for its project;
 * backups and webhook deliveries, agent-wide, with an unrestricted admin token.
 */
import type { Actor } from '../activity/service.ts';
import type { BackupService } from '../backups/service.ts';
import type { CertificateService } from '../certificates/service.ts';
import type { DeadLetterKind, DeadLetterRepo, DeadLetterRow } from '../db/dead-letter.ts';
import type { DomainRepo } from '../db/domains.ts';
import type { WebhookRepo } from '../db/webhooks.ts';
import { decodeCursor, encodeCursor, type Page } from '../db/pagination.ts';
import type { DeploymentService } from '../deployments/service.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { scopeIncludes, type Principal } from '../tokens/service.ts';
import type { WebhookService } from '../webhooks/service.ts';

/** An item of the dead-letter view. */
export interface DeadLetterItem {
  kind: DeadLetterKind;
  id: string;
  project: string | null;
  failed_at: string;
  reason: string | null;
  detail: Record<string, unknown>;
  /** The request that re-queues it, or null when Slipway retries it by itself (a platform host's certificate). */
  retry: { method: 'POST'; path: string } | null;
}

/** What a retry queued or made. */
export interface RetryResult {
  kind: DeadLetterKind;
  id: string;
  /** The new deployment, delivery or backup, or the certificate's host name. */
  retried_as: string;
  message: string;
}

/** What the dead-letter service needs. */
export interface DeadLetterDeps {
  repo: DeadLetterRepo;
  webhookRows: Pick<WebhookRepo, 'deliveries'>;
  domains: Pick<DomainRepo, 'byHostname'>;
  deployments: Pick<DeploymentService, 'retry'>;
  webhooks: Pick<WebhookService, 'redeliver'>;
  backups: Pick<BackupService, 'create'>;
  certificates: Pick<CertificateService, 'renewNow'>;
}

const AGENT_WIDE: readonly DeadLetterKind[] = ['webhook_delivery', 'backup'];

/** Whether `principal` may see and retry agent-wide items: an admin token limited to no project. */
const agentWide = (p: Principal | null) => p !== null && p.projects === null && scopeIncludes(p.scope, 'admin');

/** The dead-letter service. */
export function deadLetterService(d: DeadLetterDeps) {
  const item = (row: DeadLetterRow): DeadLetterItem => ({
    kind: row.kind,
    id: row.id,
    project: row.project,
    failed_at: row.at,
    reason: row.reason,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
    retry:
      row.kind === 'certificate_renewal' && !d.domains.byHostname(row.id)
        ? null
        : { method: 'POST', path: `/v1/ops/dead-letter/${row.kind}/${encodeURIComponent(row.id)}/retry` },
  });

  /** The item `kind`/`id` if `principal` may see it; a 404 otherwise (a tenant learns nothing of others'). */
  function visible(principal: Principal | null, kind: DeadLetterKind, id: string): DeadLetterRow {
    const row = d.repo.find(kind, id);
    const hidden =
      !row ||
      (AGENT_WIDE.includes(kind) && !agentWide(principal)) ||
      (principal?.projects != null && (row.project === null || !principal.projects.includes(row.project)));
    if (hidden) throw new NotFoundError(`Nothing in the dead letter is ${kind} "${id}"`);
    return row;
  }

  return {
    /** Newest first; `project` filters; project-limited tokens see only their projects' items. */
    list(
      principal: Principal | null,
      q: { project?: string; kind?: DeadLetterKind; cursor?: string; limit: number },
    ): Page<DeadLetterItem> {
      const key = decodeCursor('dead-letter', q.cursor, 'string');
      const before = key ? (JSON.parse(key) as { at: string; id: string }) : null;
      const rows = d.repo.page({
        project: q.project ?? null,
        only: principal?.projects ?? null,
        agentWide: agentWide(principal),
        kind: q.kind ?? null,
        before,
        limit: q.limit + 1,
      });
      const hasMore = rows.length > q.limit;
      const data = rows.slice(0, q.limit);
      const last = data[data.length - 1];
      const next = hasMore && last ? encodeCursor('dead-letter', JSON.stringify({ at: last.at, id: last.id })) : null;
      return { data: data.map(item), pagination: { next_cursor: next, has_more: hasMore } };
    },

    /** Re-queues the item: a new deployment from the same source, a redelivery, a new backup, a renewal. */
    async retry(actor: Actor, principal: Principal | null, kind: DeadLetterKind, id: string): Promise<RetryResult> {
      const row = visible(principal, kind, id);
      switch (kind) {
        case 'deployment': {
          const made = d.deployments.retry(actor, row.project!, id);
          return { kind, id, retried_as: made.id, message: `Deployment #${made.number} queued from the same source` };
        }
        case 'webhook_delivery': {
          const dead = d.webhookRows.deliveries.findAny(id)!;
          const made = d.webhooks.redeliver(actor, dead.webhook_id, id);
          return { kind, id, retried_as: made.id, message: `Delivery ${made.id} queued` };
        }
        case 'backup': {
          const detail = JSON.parse(row.detail) as { destination: 'local' | 's3' };
          const made = await d.backups.create(actor, 'api', detail.destination);
          return { kind, id, retried_as: made.id, message: `Backup ${made.id} written to ${made.location}` };
        }
        case 'certificate_renewal': {
          if (!row.project || !d.domains.byHostname(id)) {
            throw new ConflictError(`Cannot retry the renewal of ${id}: Slipway renews it by itself, with backoff`);
          }
          const early = principal !== null && scopeIncludes(principal.scope, 'admin');
          const cert = await d.certificates.renewNow(actor, row.project, id, { early });
          return { kind, id, retried_as: id, message: `Certificate of ${id} renewed, valid until ${cert.not_after}` };
        }
      }
    },
  };
}

/** The dead-letter service. */
export type DeadLetterService = ReturnType<typeof deadLetterService>;
