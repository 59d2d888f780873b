import type Docker from 'dockerode';
import type { BaseImages } from '../config.ts';
import type { DeploymentPatch, DeploymentRepo, DeploymentRow } from '../db/deployments.ts';
import type { ProjectRepo } from '../db/projects.ts';
import type { DeploymentLogs } from '../deployments/logs.ts';
import type { SourceStore } from '../deployments/sources.ts';
import type { Lifecycle } from '../deployments/lifecycle.ts';
import type { Logger } from '../log.ts';
import { asFailure, BuildError, CanceledByRequest, Interrupted } from '../deployments/failures.ts';
import { planBuild } from '../build/plan.ts';
import { collectBuildCache } from '../build/build-cache.ts';
import { buildLabelledImage } from '../build/labelled.ts';
import type { BuildIsolation } from '../build/isolation.ts';
import { describeSandbox } from '../build/sandbox.ts';
import { projectImageLabels, releaseImageLabels } from '../runtime/labels.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { randomToken } from '../ids.ts';
import type { AbortReason, DeploymentRunner } from './worker.ts';
import { pullRelease, type PullReleaseDeps } from './pull-release.ts';

/**
 * Moves a built deployment to live (run, health-check, switch traffic); throws to fail it.
 * `network` is the project's network when the pipeline already ensured it.
 */
export type Releaser = (
  row: DeploymentRow,
  signal: AbortSignal,
  log: (line: string) => void,
  network?: string,
) => Promise<void>;

/** What the pipeline needs. */
export interface PipelineDeps {
  agentId: string;
  deployments: DeploymentRepo;
  lifecycle: Lifecycle;
  projects: ProjectRepo;
  logs: DeploymentLogs;
  sources: SourceStore;
  docker: Docker;
  /** The agent's own log (not a deployment's). */
  log: Logger;
  /** Ensures the project's network while the image is made. */
  runtime: Pick<Runtime, 'ensureNetwork'>;
  images: BaseImages;
  buildTimeoutMs: number;
  buildMemoryBytes: number;
  /** Hands each build its sandbox: network, CPU and process limits. */
  isolation: Pick<BuildIsolation, 'acquire'>;
  release: Releaser;
  /** Pulls for prebuilt-image deployments: credentials and limits. */
  pulls: Pick<PullReleaseDeps, 'pullMaxBytes' | 'pullTimeoutMs' | 'authFor'>;
}

/**
 * A new tag for a deployment's image: `slipway/<project>:<number>-<10 random chars>`. The random
 * part (50 bits) keeps the tags of release images unguessable, so a Dockerfile (or a base image's
 * ONBUILD trigger) cannot name another project's image even where the Dockerfile check misses it.
 * The tag is made once per build and stored in deployments.image_tag; nothing derives it again.
 */
export function imageTag(row: Pick<DeploymentRow, 'project' | 'number'>): string {
  return `slipway/${row.project}:${row.number}-${randomToken(10)}`;
}

/** build → deploying → release, recording each step and ending failed or canceled on error. */
export function deploymentPipeline(d: PipelineDeps): DeploymentRunner {
  return async (row, signal) => {
    const log = (line: string) => d.logs.append(row.id, line);
    // The build cache is collected while the release starts; the run ends once both have.
    let collecting: Promise<unknown> = Promise.resolve();
    try {
      // A new project's network is made while the image builds or pulls rather than after; the
      // release is handed it, or asks again and reports the failure when this try failed.
      const network = d.runtime.ensureNetwork(row.project).catch(() => undefined);
      let built: DeploymentPatch = {};
      if (!row.image_tag && row.image_ref) await pullRelease({ ...d, ...d.pulls }, row, imageTag(row), signal, log);
      else if (!row.image_tag) ({ built, collecting } = await build(d, row, signal, log));
      const ensured = await network;
      // The image is recorded with the move to deploying, in one commit; on its own when that move is off.
      if (signal.aborted || !d.lifecycle.startDeploying(row.id, built)) {
        if (built.image_id) d.deployments.update(row.id, built);
        if (signal.aborted) throw abortFailure(signal);
        return; // canceled meanwhile
      }
      await d.release(d.deployments.findAny(row.id)!, signal, log, ensured);
    } catch (err) {
      // Once aborted, the abort is the reason, whatever the step it stopped threw.
      d.lifecycle.end(row.id, signal.aborted ? abortFailure(signal) : asFailure(err));
    } finally {
      await collecting;
    }
  };
}

/**
 * Builds the deployment's image; returns what to record of it, and the project's build cache
 * collection (collectBuildCache), started after the build and settling without throwing.
 */
async function build(
  d: PipelineDeps,
  row: DeploymentRow,
  signal: AbortSignal,
  log: (l: string) => void,
): Promise<{ built: DeploymentPatch; collecting: Promise<unknown> }> {
  if (!row.source_path) throw new BuildError('The source of this deployment is no longer kept');
  const project = d.projects.findByName(row.project);
  if (!project) throw new BuildError(`Project "${row.project}" no longer exists`);
  const plan = planBuild(await d.sources.manifest(row.source_path), {
    projectDockerfile: project.dockerfile,
    images: d.images,
  });
  // The Dockerfile in one append (one commit), before a build slot is waited for.
  log(
    plan.generatedDockerfile
      ? [`Detected a ${plan.stack} app; generated Dockerfile:`, ...indented(plan.generatedDockerfile)].join('\n')
      : `Building with ${plan.dockerfilePath}`,
  );
  const tag = imageTag(row);
  const lease = await d.isolation.acquire();
  log(
    lease.unlimitedBecause
      ? `${describeSandbox(lease.sandbox)}\nNo process limit on this host: ${lease.unlimitedBecause}`
      : describeSandbox(lease.sandbox),
  );
  // A project's own Dockerfile carries the project's labels in every stage, its last included; a
  // generated one's last stage only the agent's, whose step a new project takes from the cache.
  const stageLabels = projectImageLabels(d.agentId, row.project);
  const built = await buildLabelledImage(d.docker, {
    source: d.sources.absolute(row.source_path),
    plan,
    labels: plan.generatedDockerfile ? releaseImageLabels(d.agentId) : stageLabels,
    stageLabels,
    tag,
    memoryBytes: d.buildMemoryBytes,
    timeoutMs: d.buildTimeoutMs,
    sandbox: lease.sandbox,
    signal,
    onLine: (line) => d.logs.appendOutput(row.id, line),
  }).finally(() => lease.release());
  log(`Built ${tag} (${built.imageId.slice(0, 19)}) in ${(built.durationMs / 1000).toFixed(1)} s`);
  const collecting = collectBuildCache(
    d.docker,
    { agentId: d.agentId, project: row.project },
    built.stageImageIds,
    d.log,
  ).catch((err: unknown) =>
    d.log.warn('collecting the build cache failed', { project: row.project, error: String(err) }),
  );
  return {
    built: {
      stack: plan.stack,
      image_id: built.imageId,
      image_tag: tag,
      exposed_port: built.exposedPort,
      build_duration_ms: built.durationMs,
    },
    collecting,
  };
}

const indented = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => `  ${line}`);

function abortFailure(signal: AbortSignal) {
  return (signal.reason as AbortReason) === 'canceled' ? new CanceledByRequest() : new Interrupted();
}
