import type { Db } from './open.ts';

/** What gave up: a failed deployment, a webhook delivery out of retries, a failed backup or certificate renewal. */
export type DeadLetterKind = 'deployment' | 'webhook_delivery' | 'backup' | 'certificate_renewal';

/** One row of the dead-letter union; `detail` is JSON of the kind's own fields. */
export interface DeadLetterRow {
  kind: DeadLetterKind;
  id: string;
  project: string | null;
  at: string;
  reason: string | null;
  detail: string;
}

/** The filters of a dead-letter page; `before` is the (at, id) of the last row shown. */
export interface DeadLetterQuery {
  project: string | null;
  /** Projects a limited token may see (null: all). */
  only: string[] | null;
  /** Whether agent-wide items (backups, webhook deliveries) are shown: to unrestricted admin tokens only. */
  agentWide: boolean;
  kind: DeadLetterKind | null;
  before: { at: string; id: string } | null;
  limit: number;
}

// Each source keeps its own rows; the view is one query over all of them, newest first.
const UNION = `
  SELECT 'deployment' AS kind, id, project, coalesce(finished_at, updated_at) AS at, failure_reason AS reason,
         json_object('number', number, 'trigger', trigger) AS detail
    FROM deployments WHERE status = 'failed'
  UNION ALL
  SELECT 'webhook_delivery', id, project, coalesce(finished_at, created_at), last_error,
         json_object('webhook_id', webhook_id, 'event', event_type, 'attempts', attempts, 'response_code', last_status_code)
    FROM webhook_deliveries WHERE status = 'dead'
  UNION ALL
  SELECT 'backup', id, NULL, coalesce(finished_at, created_at), error,
         json_object('trigger', trigger, 'destination', destination)
    FROM backups WHERE status = 'failed'
  UNION ALL
  SELECT 'certificate_renewal', c.hostname,
         (SELECT p.name FROM projects p WHERE p.id = coalesce(
            (SELECT project_id FROM domains WHERE hostname = c.hostname),
            (SELECT project_id FROM platform_hosts WHERE hostname = c.hostname))),
         c.updated_at, c.renew_error,
         json_object('failures', c.renew_failures, 'not_after', c.not_after, 'next_attempt_at', c.renew_next_at)
    FROM certificates c WHERE c.renew_failures > 0`;

/** The dead-letter query, prepared once. */
export function deadLetterRepo(db: Db) {
  const page = db.prepare(
    `SELECT * FROM (${UNION})
      WHERE (@project IS NULL OR project = @project)
        AND (@only IS NULL OR project IN (SELECT value FROM json_each(@only)))
        AND (@agent_wide = 1 OR kind IN ('deployment', 'certificate_renewal'))
        AND (@kind IS NULL OR kind = @kind)
        AND (@before_at IS NULL OR at < @before_at OR (at = @before_at AND id < @before_id))
      ORDER BY at DESC, id DESC LIMIT @limit`,
  );
  const one = db.prepare(`SELECT * FROM (${UNION}) WHERE kind = ? AND id = ?`);
  return {
    /** Newest first, after `before`. */
    page: (q: DeadLetterQuery) =>
      page.all({
        project: q.project,
        only: q.only ? JSON.stringify(q.only) : null,
        agent_wide: q.agentWide ? 1 : 0,
        kind: q.kind,
        before_at: q.before?.at ?? null,
        before_id: q.before?.id ?? null,
        limit: q.limit,
      }) as DeadLetterRow[],
    /** One item, while it is still in the view. */
    find: (kind: DeadLetterKind, id: string) => one.get(kind, id) as DeadLetterRow | undefined,
  };
}

/** The dead-letter repository. */
export type DeadLetterRepo = ReturnType<typeof deadLetterRepo>;
