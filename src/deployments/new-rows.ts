import type { Actor } from '../activity/service.ts';
import type { DeploymentRow, NewDeployment } from '../db/deployments.ts';
import type { ProjectRow } from '../db/projects.ts';
import { nowIso } from '../ids.ts';

/** What a new deployment deploys: a stored source, or a prebuilt image to pull. */
export interface NewWhat {
  source_path: string | null;
  image_ref: string | null;
}

/** The received upload's identity, for a deployment from source. */
export interface UploadFacts {
  sha256: string;
  bytes: number;
  format: string;
}

/** The row of a new deployment sent by a user (trigger `upload`): a source to build or an image to pull. */
export function newDeploymentRow(
  actor: Actor,
  p: ProjectRow,
  id: string,
  what: NewWhat,
  upload: UploadFacts | null,
  idempotencyKey: string | null,
): NewDeployment {
  return {
    id,
    project_id: p.id,
    project: p.name,
    trigger: 'upload',
    retry_of: null,
    rollback_of: null,
    idempotency_key: idempotencyKey,
    source_sha256: upload?.sha256 ?? null,
    source_bytes: upload?.bytes ?? null,
    source_format: upload?.format ?? null,
    source_path: what.source_path,
    image_ref: what.image_ref,
    stack: null,
    image_id: null,
    image_tag: null,
    exposed_port: null,
    created_by: actor.tokenId,
    created_at: nowIso(),
  };
}

/** The fields a retry, rollback or redeploy takes from the deployment it repeats: its source or image reference. */
export function copySource(row: DeploymentRow) {
  return {
    project_id: row.project_id,
    project: row.project,
    rollback_of: null,
    idempotency_key: null,
    source_sha256: row.source_sha256,
    source_bytes: row.source_bytes,
    source_format: row.source_format,
    source_path: row.source_path,
    image_ref: row.image_ref,
    image_digest: null,
    stack: null,
    image_id: null,
    image_tag: null,
    exposed_port: null,
  };
}
