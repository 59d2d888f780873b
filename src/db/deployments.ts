import type { Db } from './open.ts';

/** Every status a deployment can be in. */
export const DEPLOYMENT_STATUSES = [
  'queued',
  'building',
  'deploying',
  'live',
  'failed',
  'canceled',
  'replaced',
] as const;
/** One of DEPLOYMENT_STATUSES. */
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** What started a deployment. */
export type DeploymentTrigger = 'upload' | 'retry' | 'rollback' | 'env' | 'restart' | 'scale';

/** A row of the deployments table. */
export interface DeploymentRow {
  id: string;
  project_id: string;
  project: string;
  number: number;
  status: DeploymentStatus;
  trigger: DeploymentTrigger;
  retry_of: string | null;
  rollback_of: string | null;
  idempotency_key: string | null;
  source_sha256: string | null;
  source_bytes: number | null;
  source_format: string | null;
  source_path: string | null;
  stack: string | null;
  image_id: string | null;
  image_tag: string | null;
  exposed_port: number | null;
  build_duration_ms: number | null;
  failure_reason: string | null;
  created_by: string | null;
  env_snapshot: string | null;
  /** The image reference a prebuilt-image deployment pulls; null for builds from source. */
  image_ref: string | null;
  /** The digest (`sha256:…`) the image reference resolved to when it was pulled. */
  image_digest: string | null;
  /** The project's settings when it was queued (JSON of DeploymentSettings); null before migration 019. */
  settings_snapshot: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

/** Columns a caller may change on an existing deployment; `status` changes only through setDeploymentStatus. */
export type DeploymentPatch = Partial<
  Omit<DeploymentRow, 'id' | 'project_id' | 'project' | 'number' | 'status' | 'created_at'>
>;

/** A deployment to insert; it starts `queued` and gets the project's next number. */
export type NewDeployment = Omit<
  DeploymentRow,
  | 'number'
  | 'status'
  | 'updated_at'
  | 'build_duration_ms'
  | 'failure_reason'
  | 'started_at'
  | 'finished_at'
  | 'env_snapshot'
  | 'image_ref'
  | 'image_digest'
  | 'settings_snapshot'
> & {
  env_snapshot?: string | null;
  image_ref?: string | null;
  image_digest?: string | null;
  settings_snapshot?: string | null;
};

/** Statements on the deployments table, prepared once. */
export function deploymentRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO deployments (id, project_id, project, number, status, trigger, retry_of, rollback_of, idempotency_key,
       source_sha256, source_bytes, source_format, source_path, stack, image_id, image_tag, exposed_port, created_by, env_snapshot, image_ref, image_digest, settings_snapshot, created_at, updated_at)
     VALUES (@id, @project_id, @project, (SELECT coalesce(max(number), 0) + 1 FROM deployments WHERE project_id = @project_id),
       'queued', @trigger, @retry_of, @rollback_of, @idempotency_key, @source_sha256, @source_bytes, @source_format, @source_path,
       @stack, @image_id, @image_tag, @exposed_port, @created_by, @env_snapshot, @image_ref, @image_digest, @settings_snapshot, @created_at, @created_at)
     RETURNING *`,
  );
  const byId = db.prepare('SELECT * FROM deployments WHERE id = ? AND project_id = ?');
  const anyById = db.prepare('SELECT * FROM deployments WHERE id = ?');
  const byKey = db.prepare('SELECT * FROM deployments WHERE project_id = ? AND idempotency_key = ?');
  const byNumber = db.prepare('SELECT * FROM deployments WHERE project_id = ? AND number = ?');
  const list = db.prepare(
    `SELECT * FROM deployments WHERE project_id = @project_id AND number < @before
       AND (@status IS NULL OR status = @status) ORDER BY number DESC LIMIT @limit`,
  );
  const withStatus = db.prepare(
    'SELECT * FROM deployments WHERE status IN (SELECT value FROM json_each(?)) ORDER BY created_at, id',
  );
  const queuedOf = db.prepare("SELECT * FROM deployments WHERE project_id = ? AND status = 'queued' AND id <> ?");
  const ofProjectWith = db.prepare(
    'SELECT * FROM deployments WHERE project_id = ? AND status IN (SELECT value FROM json_each(?)) ORDER BY number DESC',
  );
  const nextRunnable = db.prepare(
    `SELECT d.* FROM deployments d WHERE d.status = 'queued'
       AND NOT EXISTS (SELECT 1 FROM deployments x WHERE x.project_id = d.project_id AND x.status IN ('building', 'deploying'))
       AND d.project_id NOT IN (SELECT value FROM json_each(@busy))
     ORDER BY d.created_at, d.id LIMIT 1`,
  );
  const withSource = db.prepare(
    `SELECT * FROM deployments WHERE project_id = ? AND source_path IS NOT NULL ORDER BY number DESC`,
  );
  // Ended deployments past the newest `keep` of a project whose source is already gone; the
  // live one and unfinished ones are never among them. Their logs go with them (ON DELETE CASCADE).
  const pruneHistory = db.prepare(
    `DELETE FROM deployments WHERE project_id = @project_id AND source_path IS NULL
       AND status IN ('failed', 'canceled', 'replaced')
       AND number <= (SELECT number FROM deployments WHERE project_id = @project_id
                      ORDER BY number DESC LIMIT 1 OFFSET @keep)`,
  );
  const byStatus = db.prepare('SELECT status, count(*) AS n FROM deployments GROUP BY status');
  const durations = db.prepare(
    'SELECT build_duration_ms AS ms FROM deployments WHERE build_duration_ms IS NOT NULL ORDER BY number DESC LIMIT 10000',
  );
  // Updates touch a handful of column sets; each shape is prepared once and reused.
  const updates = new Map<string, ReturnType<Db['prepare']>>();
  return {
    /** Inserts with the next per-project number and returns the stored row. */
    insert: (row: NewDeployment) =>
      insert.get({
        env_snapshot: null,
        image_ref: null,
        image_digest: null,
        settings_snapshot: null,
        ...row,
      }) as DeploymentRow,
    find: (projectId: string, id: string) => byId.get(id, projectId) as DeploymentRow | undefined,
    findAny: (id: string) => anyById.get(id) as DeploymentRow | undefined,
    findByKey: (projectId: string, key: string) => byKey.get(projectId, key) as DeploymentRow | undefined,
    findByNumber: (projectId: string, number: number) => byNumber.get(projectId, number) as DeploymentRow | undefined,
    /** Newest first, before number `before`. */
    list: (q: { project_id: string; before: number; status: string | null; limit: number }) =>
      list.all(q) as DeploymentRow[],
    withStatus: (statuses: readonly DeploymentStatus[]) => withStatus.all(JSON.stringify(statuses)) as DeploymentRow[],
    queuedOf: (projectId: string, exceptId: string) => queuedOf.all(projectId, exceptId) as DeploymentRow[],
    /** A project's deployments in one of `statuses`, newest first. */
    ofProjectWith: (projectId: string, statuses: readonly DeploymentStatus[]) =>
      ofProjectWith.all(projectId, JSON.stringify(statuses)) as DeploymentRow[],
    /** The oldest queued deployment whose project has nothing running and is not in `busy`. */
    nextRunnable: (busy: string[]) => nextRunnable.get({ busy: JSON.stringify(busy) }) as DeploymentRow | undefined,
    /** How many deployments are in each status. */
    countByStatus: () =>
      Object.fromEntries((byStatus.all() as { status: string; n: number }[]).map((r) => [r.status, r.n])) as Record<
        string,
        number
      >,
    /** Build durations of the most recent 10,000 builds, ms. */
    buildDurations: () => (durations.all() as { ms: number }[]).map((r) => r.ms),
    /** Deletes a project's ended deployments older than its newest `keep`; returns how many. */
    pruneHistory: (projectId: string, keep: number) => pruneHistory.run({ project_id: projectId, keep }).changes,
    /** Deployments of a project that still keep their source, newest first. */
    withSource: (projectId: string) => withSource.all(projectId) as DeploymentRow[],
    /** Applies `patch`, only while the row is still in one of `from` (when given); true if it changed. */
    update: (id: string, patch: DeploymentPatch, from?: readonly DeploymentStatus[]): boolean =>
      update(id, patch, from),
    /**
     * Moves the row from `from` to `to` with `patch`, only while it is still `from` (compare and
     * set); true if it changed. The lifecycle module is its one caller: it checks the transition.
     */
    setDeploymentStatus: (
      id: string,
      from: DeploymentStatus,
      to: DeploymentStatus,
      patch: DeploymentPatch = {},
    ): boolean => update(id, { ...patch, status: to } as DeploymentPatch, [from]),
  };

  function update(id: string, patch: DeploymentPatch, from?: readonly DeploymentStatus[]): boolean {
    const keys = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined);
    const shape = `${keys.join(',')}|${from ? 'guarded' : ''}`;
    let stmt = updates.get(shape);
    if (!stmt) {
      const sets = [...keys.map((k) => `${k} = @${k}`), 'updated_at = @updated_at'].join(', ');
      const guard = from ? ` AND status IN (SELECT value FROM json_each(@from))` : '';
      stmt = db.prepare(`UPDATE deployments SET ${sets} WHERE id = @id${guard}`);
      updates.set(shape, stmt);
    }
    return (
      stmt.run({
        ...pick(patch, keys),
        id,
        updated_at: new Date().toISOString(),
        from: from ? JSON.stringify(from) : null,
      }).changes > 0
    );
  }
}

/** The deployments repository. */
export type DeploymentRepo = ReturnType<typeof deploymentRepo>;

function pick(patch: DeploymentPatch, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, (patch as Record<string, unknown>)[k]]));
}
