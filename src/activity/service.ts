import type { ActivityRepo, ActivityRow, ActivityQuery } from '../db/activity.ts';
import { decodeCursor, toPage, type Page } from '../db/pagination.ts';
import { newId, nowIso } from '../ids.ts';

/** Who did something and through which request; every mutation carries one. */
export interface Actor {
  tokenId: string | null;
  tokenName: string | null;
  requestId: string | null;
  clientIp: string | null;
}

/** What happened, as recorded in the activity log. `changes` must never hold secret values. */
export interface ActivityEntry {
  action: string;
  targetType: string;
  target: string;
  project?: string | null;
  changes?: Record<string, unknown>;
}

/** An activity row as the API shows it. */
export interface ActivityView {
  id: string;
  created_at: string;
  action: string;
  target_type: string;
  target: string;
  project: string | null;
  token: { id: string | null; name: string | null };
  request_id: string | null;
  client_ip: string | null;
  changes: Record<string, unknown>;
}

/** Appends to and reads the audit log. */
export function activityService(repo: ActivityRepo) {
  return {
    /** Appends one row; call inside the transaction of the mutation it records. */
    record(actor: Actor, entry: ActivityEntry): void {
      repo.append({
        id: newId('act'),
        created_at: nowIso(),
        token_id: actor.tokenId,
        token_name: actor.tokenName,
        action: entry.action,
        target_type: entry.targetType,
        target: entry.target,
        project: entry.project ?? null,
        request_id: actor.requestId,
        client_ip: actor.clientIp,
        changes: JSON.stringify(entry.changes ?? {}),
      });
    },
    /** Newest first, keyset-paginated on the sequence number. */
    list(q: Omit<ActivityQuery, 'before'> & { cursor?: string }): Page<ActivityView> {
      const before = decodeCursor('activity', q.cursor, 'number') ?? Number.MAX_SAFE_INTEGER;
      const rows = repo.list({ ...q, before, limit: q.limit + 1 });
      const page = toPage(rows, q.limit, (r) => r.seq, 'activity');
      return { data: page.data.map(toView), pagination: page.pagination };
    },
  };
}

/** The activity service. */
export type ActivityService = ReturnType<typeof activityService>;

function toView(r: ActivityRow): ActivityView {
  return {
    id: r.id,
    created_at: r.created_at,
    action: r.action,
    target_type: r.target_type,
    target: r.target,
    project: r.project,
    token: { id: r.token_id, name: r.token_name },
    request_id: r.request_id,
    client_ip: r.client_ip,
    changes: JSON.parse(r.changes),
  };
}
