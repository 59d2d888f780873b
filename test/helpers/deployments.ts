import type { Deps } from '../../src/deps.ts';
import type { DeploymentRow, NewDeployment } from '../../src/db/deployments.ts';
import { newId, nowIso } from '../../src/ids.ts';

/** Queues a deployment of `project` through the lifecycle, as the API does; `extra` overrides fields. */
export function queueDeployment(deps: Deps, project: string, extra: Partial<NewDeployment> = {}): DeploymentRow {
  return deps.lifecycle.enqueue({
    id: newId('dep'),
    project_id: deps.projects.get(project).id,
    project,
    trigger: 'upload',
    retry_of: null,
    rollback_of: null,
    idempotency_key: null,
    source_sha256: null,
    source_bytes: null,
    source_format: null,
    source_path: null,
    stack: null,
    image_id: null,
    image_tag: null,
    exposed_port: null,
    created_by: null,
    created_at: nowIso(),
    ...extra,
  });
}

/** What a deployment that needs no build carries: an image already, so the pipeline goes straight to the release. */
export const PREBUILT: Partial<NewDeployment> = {
  trigger: 'restart',
  stack: 'static',
  image_id: 'slipway-fixture/static:latest',
  image_tag: 'slipway-fixture/static:latest',
  exposed_port: 8080,
};
