import type { Db } from './open.ts';

/** A row of the append-only activity table. */
export interface ActivityRow {
  seq: number;
  id: string;
  created_at: string;
  token_id: string | null;
  token_name: string | null;
  action: string;
  target_type: string;
  target: string;
  project: string | null;
  request_id: string | null;
  client_ip: string | null;
  changes: string;
}

/**
 * Filters of the activity list. `only` limits to a set of projects (project-scoped tokens), and to
 * what happened since each was created: an earlier project of the same name is another tenant's.
 */
export interface ActivityQuery {
  before: number;
  limit: number;
  project?: string;
  token_id?: string;
  action?: string;
  only: string[] | null;
}

/** Statements on the activity table, prepared once. Rows can be appended, never changed. */
export function activityRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO activity (id, created_at, token_id, token_name, action, target_type, target, project, request_id, client_ip, changes)
     VALUES (@id, @created_at, @token_id, @token_name, @action, @target_type, @target, @project, @request_id, @client_ip, @changes)`,
  );
  const list = db.prepare(
    `SELECT * FROM activity
     WHERE seq < @before
       AND (@project IS NULL OR project = @project)
       AND (@token_id IS NULL OR token_id = @token_id)
       AND (@action IS NULL OR action = @action OR action LIKE @action_prefix)
       AND (@only IS NULL OR EXISTS (
             SELECT 1 FROM projects AS p
             WHERE p.name = activity.project AND activity.created_at >= p.created_at
               AND p.name IN (SELECT value FROM json_each(@only))))
     ORDER BY seq DESC LIMIT @limit`,
  );
  return {
    append: (row: Omit<ActivityRow, 'seq'>) => void insert.run(row),
    /** Newest first, before sequence number `before`. `action` "project" also matches "project.*". */
    list: (q: ActivityQuery) =>
      list.all({
        before: q.before,
        limit: q.limit,
        project: q.project ?? null,
        token_id: q.token_id ?? null,
        action: q.action ?? null,
        action_prefix: q.action ? `${q.action}.%` : null,
        only: q.only ? JSON.stringify(q.only) : null,
      }) as ActivityRow[],
  };
}

/** The activity repository. */
export type ActivityRepo = ReturnType<typeof activityRepo>;
