import type Docker from 'dockerode';
import type { BaseImages } from '../config.ts';
import type { DeploymentRepo, DeploymentRow } from '../db/deployments.ts';
import type { ProjectRepo } from '../db/projects.ts';
import type { DeploymentLogs } from '../deployments/logs.ts';
import type { SourceStore } from '../deployments/sources.ts';
import { planBuild } from '../build/plan.ts';
import { buildContext } from '../build/context.ts';
import { buildImage } from '../build/builder.ts';
import { BuildError } from '../build/errors.ts';
import type { AbortReason, DeploymentRunner } from './worker.ts';

/** Moves a built deployment to live (run, health-check, switch traffic); throws to fail it. */
export type Releaser = (row: DeploymentRow, signal: AbortSignal, log: (line: string) => void) => Promise<void>;

/** What the pipeline needs. */
export interface PipelineDeps {
  agentId: string;
  deployments: DeploymentRepo;
  projects: ProjectRepo;
  logs: DeploymentLogs;
  sources: SourceStore;
  docker: Docker;
  images: BaseImages;
  buildTimeoutMs: number;
  buildMemoryBytes: number;
  release: Releaser;
  /** Ends a deployment that is still active. */
  finish(id: string, status: 'failed' | 'canceled', reason: string): void;
}

/** The labels on everything built or run for a deployment. */
export function deploymentLabels(
  row: Pick<DeploymentRow, 'id' | 'project' | 'number'>,
  agentId: string,
): Record<string, string> {
  return {
    'slipway.managed': 'true',
    'slipway.agent': agentId,
    'slipway.project': row.project,
    'slipway.deployment': row.id,
    'slipway.number': String(row.number),
  };
}

/** The tag of a deployment's image. */
export function imageTag(row: Pick<DeploymentRow, 'project' | 'number'>): string {
  return `slipway/${row.project}:${row.number}`;
}

/** build → deploying → release, recording each step and ending failed or canceled on error. */
export function deploymentPipeline(d: PipelineDeps): DeploymentRunner {
  return async (row, signal) => {
    const log = (line: string) => d.logs.append(row.id, line);
    try {
      if (!row.image_tag) await build(d, row, signal, log);
      if (signal.aborted) throw abortError(signal);
      if (!d.deployments.update(row.id, { status: 'deploying' }, ['building'])) return; // canceled meanwhile
      d.logs.wake(row.id);
      await d.release(d.deployments.findAny(row.id)!, signal, log);
    } catch (err) {
      const reason = signal.aborted ? abortMessage(signal) : err instanceof Error ? err.message : String(err);
      const canceled = signal.aborted && (signal.reason as AbortReason) === 'canceled';
      d.finish(row.id, canceled ? 'canceled' : 'failed', reason);
    }
  };
}

async function build(
  d: PipelineDeps,
  row: DeploymentRow,
  signal: AbortSignal,
  log: (l: string) => void,
): Promise<void> {
  if (!row.source_path) throw new BuildError('The source of this deployment is no longer kept');
  const project = d.projects.findByName(row.project);
  if (!project) throw new BuildError(`Project "${row.project}" no longer exists`);
  const plan = planBuild(await d.sources.manifest(row.source_path), {
    projectDockerfile: project.dockerfile,
    images: d.images,
  });
  log(
    plan.generatedDockerfile
      ? `Detected a ${plan.stack} app; generated Dockerfile:`
      : `Building with ${plan.dockerfilePath}`,
  );
  if (plan.generatedDockerfile) for (const line of plan.generatedDockerfile.trimEnd().split('\n')) log(`  ${line}`);
  const tag = imageTag(row);
  // The labels go into the Dockerfile as one LABEL step rather than the engine's one step per label.
  const built = await buildImage(
    d.docker,
    buildContext(d.sources.absolute(row.source_path), plan, deploymentLabels(row, d.agentId)),
    {
      tag,
      labels: {},
      dockerfilePath: plan.dockerfilePath,
      memoryBytes: d.buildMemoryBytes,
      timeoutMs: d.buildTimeoutMs,
      signal,
      onLine: log,
    },
  );
  d.deployments.update(row.id, {
    stack: plan.stack,
    image_id: built.imageId,
    image_tag: tag,
    exposed_port: built.exposedPort,
    build_duration_ms: built.durationMs,
  });
  log(`Built ${tag} (${built.imageId.slice(0, 19)}) in ${(built.durationMs / 1000).toFixed(1)} s`);
}

function abortMessage(signal: AbortSignal): string {
  return (signal.reason as AbortReason) === 'canceled'
    ? 'Canceled by request'
    : 'interrupted: Slipway stopped while the deployment ran';
}

function abortError(signal: AbortSignal): Error {
  return new Error(abortMessage(signal));
}
