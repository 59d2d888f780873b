import type { DeploymentRow } from '../db/deployments.ts';

/** A deployment as the API shows it. */
export interface DeploymentView {
  id: string;
  project: string;
  number: number;
  status: DeploymentRow['status'];
  trigger: DeploymentRow['trigger'];
  retry_of: string | null;
  rollback_of: string | null;
  source: { sha256: string; bytes: number; format: string; kept: boolean } | null;
  stack: string | null;
  image: { id: string | null; tag: string } | null;
  image_ref: string | null;
  exposed_port: number | null;
  build_duration_ms: number | null;
  failure_reason: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

/** Maps a row to its API shape. */
export function toDeploymentView(row: DeploymentRow): DeploymentView {
  return {
    id: row.id,
    project: row.project,
    number: row.number,
    status: row.status,
    trigger: row.trigger,
    retry_of: row.retry_of,
    rollback_of: row.rollback_of,
    source:
      row.source_sha256 === null
        ? null
        : {
            sha256: row.source_sha256,
            bytes: row.source_bytes ?? 0,
            format: row.source_format ?? 'tar.gz',
            kept: row.source_path !== null,
          },
    stack: row.stack,
    image: row.image_tag ? { id: row.image_id, tag: row.image_tag } : null,
    image_ref: row.image_ref,
    exposed_port: row.exposed_port,
    build_duration_ms: row.build_duration_ms,
    failure_reason: row.failure_reason,
    created_at: row.created_at,
    started_at: row.started_at,
    finished_at: row.finished_at,
    updated_at: row.updated_at,
  };
}
