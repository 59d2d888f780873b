import type { DeploymentRepo, DeploymentRow } from '../db/deployments.ts';
import type { Logger } from '../log.ts';
import type { SourceStore } from './sources.ts';

/** What a project's history keeps: sources for retries, deployments (with their logs) for reading. */
export interface Retention {
  deployments: DeploymentRepo;
  sources: SourceStore;
  log: Logger;
  /** Sources kept per project (SLIPWAY_SOURCE_RETENTION). */
  sourceRetention: number;
  /** Deployments kept per project (SLIPWAY_DEPLOYMENT_RETENTION). */
  deploymentRetention: number;
}

/**
 * Prunes a project's history after an upload: the sources of all but the newest
 * `sourceRetention` deployments (and of any not yet built), then ended deployments past the newest
 * `deploymentRetention` whose source is gone, their logs with them.
 */
export async function pruneHistory(r: Retention, projectId: string): Promise<void> {
  await pruneSources(r, projectId);
  r.deployments.pruneHistory(projectId, r.deploymentRetention);
}

async function pruneSources(r: Retention, projectId: string): Promise<void> {
  const rows = r.deployments.withSource(projectId);
  const busy = (row: DeploymentRow) => row.status === 'queued' || row.status === 'building';
  const pruned = rows.slice(r.sourceRetention).filter((row) => !busy(row));
  // A retry shares its original's file: delete a file only when no kept row still uses it.
  const stillUsed = new Set(rows.filter((row) => !pruned.includes(row)).map((row) => row.source_path));
  for (const row of pruned) {
    r.deployments.update(row.id, { source_path: null });
    if (stillUsed.has(row.source_path)) continue;
    await r.sources
      .remove(row.source_path!)
      .catch((err) => r.log.warn('cannot prune source', { deployment: row.id, error: String(err) }));
  }
}
