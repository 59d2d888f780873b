/**
 * The second stage of createDeps (deps.ts): what takes an upload to a live release: the project
 * service with its volume sizes, releases, the build pipeline and its worker, and the deployment
 * service that queues work for them.
 */
import type { Config } from '../config.ts';
import type { DepsOptions } from '../deps.ts';
import { relaxedCommits } from '../db/relaxed.ts';
import { projectService } from '../projects/service.ts';
import { imageExists } from '../runtime/docker.ts';
import { deploymentService } from '../deployments/service.ts';
import { DeployWorker } from '../jobs/worker.ts';
import { deploymentPipeline } from '../jobs/pipeline.ts';
import { BuildIsolation, isolationSettings } from '../build/isolation.ts';
import { releaseService } from '../release/service.ts';
import { releaseEnv } from '../release/release-env.ts';
import { VolumeSizes } from '../volumes/sizes.ts';
import { VolumeQuotaProbe } from '../volumes/quota.ts';
import { volumeMounts } from '../volumes/mounts.ts';
import type { Core } from './core.ts';
import { Retirements } from '../release/retirements.ts';

/** What shippingParts builds. */
export type Shipping = ReturnType<typeof shippingParts>;

/** Projects, releases, the pipeline and its worker, and the deployment service. */
export function shippingParts(config: Config, options: DepsOptions, core: Core) {
  const { db, docker, log, agent, repos } = core;
  const volumeSizes = new VolumeSizes(docker, log);
  const mounts = volumeMounts({
    docker,
    agentId: agent,
    repo: repos.volumes,
    quota: new VolumeQuotaProbe(docker, agent),
    log,
  });
  const projects = projectService(db, repos.projects, core.activity, config.baseDomain, repos.tokens, (id) =>
    volumeSizes.projectTotal(id, (projectId) => repos.volumes.ofProject(projectId).map((v) => v.docker_name)),
  );
  const releasing = releaseEnv(core.env, repos.deployments, relaxedCommits(db));
  const releaseDeps = {
    agentId: agent,
    db,
    docker,
    runtime: core.runtime,
    edge: core.edge,
    log,
    deployments: repos.deployments,
    lifecycle: core.lifecycle,
    projects: repos.projects,
    activity: core.activity,
    logs: core.logs,
    drainTimeoutMs: config.drainTimeoutSeconds * 1000,
    retirements: new Retirements(),
    releaseRetention: config.releaseRetention,
    envFor: releasing.envFor,
    restoreEnv: releasing.restore,
    mountsFor: mounts.mountsFor,
  };
  const releases = releaseService(releaseDeps);
  const buildIsolation = options.buildIsolation ?? new BuildIsolation(docker, isolationSettings(config));
  const worker = deployWorker(config, core, {
    isolation: buildIsolation,
    release: options.release ?? releases.release,
  });
  const deployments = deploymentService({
    db,
    deployments: repos.deployments,
    lifecycle: core.lifecycle,
    projects: repos.projects,
    activity: core.activity,
    logs: core.logs,
    sources: core.sources,
    log,
    maxUploadBytes: config.maxUploadBytes,
    sourceRetention: config.sourceRetention,
    deploymentRetention: config.deploymentRetention,
    worker,
    imageExists: (ref) => imageExists(docker, ref),
    changesOfRestore: releasing.changesOfRestore,
    registries: core.registries,
  });
  return { volumeSizes, mounts, projects, releasing, releaseDeps, releases, buildIsolation, worker, deployments };
}

/** The deploy worker running the pipeline: build or pull, then the release. */
function deployWorker(
  config: Config,
  core: Core,
  steps: Pick<Parameters<typeof deploymentPipeline>[0], 'isolation' | 'release'>,
): DeployWorker {
  const { repos, lifecycle, logs, log } = core;
  const pipeline = deploymentPipeline({
    agentId: core.agent,
    deployments: repos.deployments,
    lifecycle,
    projects: repos.projects,
    logs,
    sources: core.sources,
    docker: core.docker,
    log,
    runtime: core.runtime,
    images: config.images,
    buildTimeoutMs: config.buildTimeoutSeconds * 1000,
    buildMemoryBytes: config.buildMemoryMb * 1024 * 1024,
    ...steps,
    pulls: {
      pullMaxBytes: config.pullMaxBytes,
      pullTimeoutMs: config.pullTimeoutSeconds * 1000,
      authFor: core.registries.authFor,
    },
  });
  return new DeployWorker({
    deployments: repos.deployments,
    lifecycle,
    logs,
    log,
    concurrency: config.buildConcurrency,
    runner: pipeline,
  });
}
