import { rm } from 'node:fs/promises';
import type { Db } from '../db/open.ts';
import type { DeploymentRepo, DeploymentRow, NewDeployment } from '../db/deployments.ts';
import type { ProjectRepo, ProjectRow } from '../db/projects.ts';
import { decodeCursor, toPage, type Page } from '../db/pagination.ts';
import type { ActivityService, Actor } from '../activity/service.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { newId, nowIso } from '../ids.ts';
import { filesToCapture } from '../build/detect.ts';
import type { Logger } from '../log.ts';
import type { DeploymentLogs } from './logs.ts';
import { type Lifecycle, RUNNING } from './lifecycle.ts';
import { CanceledByRequest } from './failures.ts';
import type { SourceStore } from './sources.ts';
import { receiveUpload } from './upload.ts';
import { toDeploymentView, type DeploymentView } from './view.ts';
import { findProject } from '../projects/find.ts';
import { type EnvChange, envUnchanged, rollbackEnvWarnings } from '../env/diff.ts';
import { pruneHistory } from './retention.ts';
import { imageOfBody } from './image-request.ts';
import { settingsSnapshot } from './settings-snapshot.ts';
import { copySource, newDeploymentRow, type NewWhat, type UploadFacts } from './new-rows.ts';

/** What the deployment service needs. */
export interface DeploymentServiceDeps {
  db: Db;
  deployments: DeploymentRepo;
  lifecycle: Lifecycle;
  projects: ProjectRepo;
  activity: ActivityService;
  logs: DeploymentLogs;
  sources: SourceStore;
  log: Logger;
  maxUploadBytes: number;
  sourceRetention: number;
  /** Deployments kept per project in the history (SLIPWAY_DEPLOYMENT_RETENTION). */
  deploymentRetention: number;
  /** Whether the engine still has an image (rollbacks need their release's image). */
  imageExists(ref: string): Promise<boolean>;
  /** Tells the worker there may be something to run, and cancels what it runs. */
  worker: { kick(): void; cancel(deploymentId: string): boolean };
  /** What restoring a release's env snapshot would change in the project's env now. */
  changesOfRestore(projectId: string, sealedSnapshot: string): EnvChange;
  /** Whether an admin added credentials for a registry host (pulls from private addresses need it). */
  registries: { registered(host: string): boolean };
}

/** A queued rollback, with what it will do that the caller should know (env keys it changes back). */
export type RollbackView = DeploymentView & { warnings: string[] };

/** Uploads, lists, cancels and retries deployments; the worker runs them. */
export function deploymentService(d: DeploymentServiceDeps) {
  const project = (name: string): ProjectRow => findProject(d.projects, name);

  function find(projectName: string, id: string): DeploymentRow {
    const row = d.deployments.find(project(projectName).id, id);
    if (!row) throw new NotFoundError(`No deployment "${id}" in project "${projectName}"`);
    return row;
  }

  /**
   * Queues a deployment (superseding older queued ones), records it with `extra.changes`, adds
   * `extra.log` to its log right after the queued line, and wakes the worker.
   */
  function enqueue(
    actor: Actor,
    row: NewDeployment,
    action: string,
    extra: { changes?: Record<string, unknown>; log?: string[] } = {},
  ): DeploymentRow {
    const settings = settingsSnapshot(project(row.project));
    const inserted = d.lifecycle.enqueue({ ...row, settings_snapshot: settings }, (created) => {
      d.activity.record(actor, {
        action,
        targetType: 'deployment',
        target: created.id,
        project: row.project,
        changes: {
          number: created.number,
          trigger: created.trigger,
          source_sha256: created.source_sha256,
          ...(created.image_ref ? { image: created.image_ref } : {}),
          ...extra.changes,
        },
      });
    });
    for (const line of extra.log ?? []) d.logs.append(inserted.id, line);
    d.worker.kick();
    return inserted;
  }

  return {
    /** Receives and normalises an upload, then queues it; replays an Idempotency-Key. */
    async upload(
      actor: Actor,
      projectName: string,
      request: Request,
      idempotencyKey: string | null,
    ): Promise<{ deployment: DeploymentView; replayed: boolean }> {
      const p = project(projectName);
      const existing = idempotencyKey ? d.deployments.findByKey(p.id, idempotencyKey) : undefined;
      if (existing) return { deployment: toDeploymentView(existing), replayed: true };

      const upload = await receiveUpload(request, d.sources.tmpDir(), d.maxUploadBytes);
      const id = newId('dep');
      let sourcePath: string | null = null;
      try {
        sourcePath = await d.sources.store(upload, p.name, id, filesToCapture(p.dockerfile));
        const row = enqueueNew(actor, p, id, { source_path: sourcePath, image_ref: null }, upload, idempotencyKey);
        if (row.id !== id) await d.sources.remove(sourcePath); // lost an idempotency race
        await pruneHistory(d, p.id);
        return { deployment: toDeploymentView(row), replayed: row.id !== id };
      } catch (err) {
        if (sourcePath) await d.sources.remove(sourcePath);
        throw err;
      } finally {
        await rm(upload.path, { force: true });
      }
    },

    /**
     * Queues a deployment of a prebuilt image from the JSON body `{"image": "<reference>"}`; the
     * worker pulls it instead of building. Replays an Idempotency-Key like an upload.
     */
    deployImage(
      actor: Actor,
      projectName: string,
      body: unknown,
      idempotencyKey: string | null,
    ): { deployment: DeploymentView; replayed: boolean } {
      const p = project(projectName);
      const existing = idempotencyKey ? d.deployments.findByKey(p.id, idempotencyKey) : undefined;
      if (existing) return { deployment: toDeploymentView(existing), replayed: true };
      const image = imageOfBody(body, (host) => d.registries.registered(host));
      const id = newId('dep');
      const row = enqueueNew(actor, p, id, { image_ref: image, source_path: null }, null, idempotencyKey);
      return { deployment: toDeploymentView(row), replayed: row.id !== id };
    },

    /** Newest first; `status` filters, e.g. failed. */
    list(projectName: string, q: { status?: string; cursor?: string; limit: number }): Page<DeploymentView> {
      const p = project(projectName);
      const list = `deployments:${p.id}`;
      const rows = d.deployments.list({
        project_id: p.id,
        before: decodeCursor(list, q.cursor, 'number') ?? Number.MAX_SAFE_INTEGER,
        status: q.status ?? null,
        limit: q.limit + 1,
      });
      const page = toPage(rows, q.limit, (r) => r.number, list);
      return { data: page.data.map(toDeploymentView), pagination: page.pagination };
    },

    get: (projectName: string, id: string): DeploymentView => toDeploymentView(find(projectName, id)),

    /** The row, for the log route (which must know when the log has ended). */
    row: (projectName: string, id: string): DeploymentRow => find(projectName, id),

    /** The current row by id, or undefined once deleted. */
    rowOrNull: (id: string): DeploymentRow | undefined => d.deployments.findAny(id),

    /** Cancels a queued deployment at once, a running one through the worker. */
    cancel(actor: Actor, projectName: string, id: string): DeploymentView {
      const row = find(projectName, id);
      if (row.status === 'queued') {
        const changed = d.db.transaction(() => {
          const ok = d.lifecycle.end(id, new CanceledByRequest(), ['queued']);
          if (ok)
            d.activity.record(actor, {
              action: 'deployment.cancel',
              targetType: 'deployment',
              target: id,
              project: row.project,
            });
          return ok;
        })();
        if (changed) return toDeploymentView(d.deployments.findAny(id)!);
      } else if (RUNNING.includes(row.status)) {
        d.activity.record(actor, {
          action: 'deployment.cancel',
          targetType: 'deployment',
          target: id,
          project: row.project,
        });
        d.worker.cancel(id);
        return toDeploymentView(d.deployments.findAny(id)!);
      }
      const now = d.deployments.findAny(id)!;
      throw new ConflictError(`Cannot cancel deployment #${now.number}: it is already ${now.status}`);
    },

    /**
     * Queues a deployment that makes an earlier release live again: its image and its env, no
     * rebuild. Without an id, the release that was live before the current one. The warnings name
     * the env keys it changes back (also in the new deployment's log and the activity row).
     */
    async rollback(actor: Actor, projectName: string, targetId: string | null): Promise<RollbackView> {
      const p = project(projectName);
      const target = targetId
        ? find(projectName, targetId)
        : d.deployments.list({ project_id: p.id, before: Number.MAX_SAFE_INTEGER, status: 'replaced', limit: 1 })[0];
      if (!target) throw new ConflictError(`Cannot roll back "${projectName}": no earlier release has been live`);
      if (target.status === 'live')
        throw new ConflictError(`Cannot roll back to deployment #${target.number}: it is live now`);
      if (target.status !== 'replaced' || !target.image_tag) {
        throw new ConflictError(`Cannot roll back to deployment #${target.number}: it never went live`);
      }
      if (!(await d.imageExists(target.image_tag))) {
        throw new ConflictError(
          `Cannot roll back to deployment #${target.number}: its image was pruned (SLIPWAY_RELEASE_RETENTION)`,
        );
      }
      // Names only, never values; the env is compared now, the snapshot is restored at go-live.
      const env = target.env_snapshot ? d.changesOfRestore(p.id, target.env_snapshot) : null;
      const warnings = env ? rollbackEnvWarnings(target.number, env) : [];
      const created = enqueue(
        actor,
        {
          ...copySource(target),
          id: newId('dep'),
          trigger: 'rollback',
          retry_of: null,
          rollback_of: target.id,
          env_snapshot: target.env_snapshot,
          stack: target.stack,
          image_id: target.image_id,
          image_tag: target.image_tag,
          image_digest: target.image_digest,
          exposed_port: target.exposed_port,
          created_by: actor.tokenId,
          created_at: nowIso(),
        },
        'deployment.rollback',
        {
          ...(env && !envUnchanged(env) ? { changes: { env } } : {}),
          log: warnings.map((w) => `Warning: ${w}`),
        },
      );
      return { ...toDeploymentView(created), warnings };
    },

    /**
     * Queues a new release of the live deployment's image (no rebuild), e.g. after an env
     * change; null when nothing is live or the project is stopped.
     */
    redeploy(actor: Actor, projectName: string, trigger: 'env'): DeploymentView | null {
      const p = project(projectName);
      if (p.desired_state === 'stopped') return null;
      const live = d.lifecycle.liveOf(p.id);
      if (!live?.image_tag) return null;
      const created = enqueue(
        actor,
        {
          ...copySource(live),
          id: newId('dep'),
          trigger,
          retry_of: null,
          stack: live.stack,
          image_id: live.image_id,
          image_tag: live.image_tag,
          image_digest: live.image_digest,
          exposed_port: live.exposed_port,
          created_by: actor.tokenId,
          created_at: nowIso(),
        },
        `deployment.${trigger}`,
      );
      return toDeploymentView(created);
    },

    /** Queues a new deployment built from the same stored source. */
    retry(actor: Actor, projectName: string, id: string): DeploymentView {
      const row = find(projectName, id);
      if (!row.source_path && !row.image_ref) {
        throw new ConflictError(
          `Cannot retry deployment #${row.number}: its source is no longer kept (SLIPWAY_SOURCE_RETENTION)`,
        );
      }
      const created = enqueue(
        actor,
        {
          ...copySource(row),
          id: newId('dep'),
          trigger: 'retry',
          retry_of: row.id,
          created_by: actor.tokenId,
          created_at: nowIso(),
        },
        'deployment.retry',
      );
      return toDeploymentView(created);
    },
  };

  /** Queues a new upload or image deployment; an Idempotency-Key race returns the winner's row. */
  function enqueueNew(
    actor: Actor,
    p: ProjectRow,
    id: string,
    what: NewWhat,
    upload: UploadFacts | null,
    idempotencyKey: string | null,
  ): DeploymentRow {
    try {
      return enqueue(actor, newDeploymentRow(actor, p, id, what, upload, idempotencyKey), 'deployment.create');
    } catch (err) {
      const raced = idempotencyKey ? d.deployments.findByKey(p.id, idempotencyKey) : undefined;
      if (raced) return raced;
      throw err;
    }
  }
}

/** The deployment service. */
export type DeploymentService = ReturnType<typeof deploymentService>;
