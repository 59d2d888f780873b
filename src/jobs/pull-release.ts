/**
 * The pull step of a prebuilt-image deployment, in place of a build: pull the image by digest
 * with the registry's stored credentials, stamp Slipway's labels on it under a fresh release tag
 * (so it is pruned, rolled back and isolated exactly like a built image; the labels are the
 * agent's, so projects deploying one image share the stamp step's cache), then drop the pulled
 * reference, leaving the release tag the only name of the image.
 */
import type Docker from 'dockerode';
import type { DeploymentRepo, DeploymentRow } from '../db/deployments.ts';
import { BuildError } from '../deployments/failures.ts';
import { stampImage } from '../build/labelled.ts';
import { firstExposedPort } from '../build/progress.ts';
import type { BuildIsolation } from '../build/isolation.ts';
import { parseImageReference } from '../images/reference.ts';
import { pullImage } from '../images/pull.ts';
import type { PullAuth } from '../registries/service.ts';
import { releaseImageLabels } from '../runtime/labels.ts';

/** What pulling a release needs. */
export interface PullReleaseDeps {
  agentId: string;
  docker: Docker;
  deployments: DeploymentRepo;
  isolation: Pick<BuildIsolation, 'acquire'>;
  buildMemoryBytes: number;
  buildTimeoutMs: number;
  pullMaxBytes: number;
  pullTimeoutMs: number;
  /** The stored credentials for a registry host, if an admin added some. */
  authFor(host: string): PullAuth | null;
}

/** Pulls `row.image_ref`, tags it `tag` with the deployment's labels, and records the image. */
export async function pullRelease(
  d: PullReleaseDeps,
  row: DeploymentRow,
  tag: string,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<void> {
  if (!row.image_ref) throw new BuildError('This deployment names no image to pull');
  const ref = parseImageReference(row.image_ref);
  const started = Date.now();
  const pulled = await pullImage(d.docker, {
    ref,
    auth: d.authFor(ref.host),
    maxBytes: d.pullMaxBytes,
    timeoutMs: d.pullTimeoutMs,
    signal,
    onLine: log,
  });
  const lease = await d.isolation.acquire();
  try {
    const stamped = await stampImage(d.docker, pulled.imageId, releaseImageLabels(d.agentId), {
      tag,
      memoryBytes: d.buildMemoryBytes,
      timeoutMs: d.buildTimeoutMs,
      sandbox: lease.sandbox,
      signal,
      onLine: () => {},
    });
    d.deployments.update(row.id, {
      image_id: stamped.imageId,
      image_tag: tag,
      image_digest: pulled.digestRef.slice(pulled.digestRef.indexOf('@') + 1),
      exposed_port: firstExposedPort(pulled.exposedPorts, []),
      build_duration_ms: Date.now() - started,
    });
    log(`Tagged ${tag} (${stamped.imageId.slice(0, 19)}) with Slipway's labels`);
  } finally {
    lease.release();
    // The release tag now holds the image; the digest reference would only keep it from being pruned.
    await d.docker
      .getImage(pulled.digestRef)
      .remove({ noprune: true })
      .catch(() => {});
  }
}
