import type Docker from 'dockerode';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.ts';
import { openDatabase, type Db } from './db/open.ts';
import { tokenRepo } from './db/tokens.ts';
import { projectRepo } from './db/projects.ts';
import { activityRepo } from './db/activity.ts';
import { activityService, type ActivityService, type Actor } from './activity/service.ts';
import { tokenService, type TokenService } from './tokens/service.ts';
import { projectService, type ProjectService } from './projects/service.ts';
import { createDockerClient } from './runtime/docker.ts';
import { createLogger, type Logger } from './log.ts';
import { deploymentRepo, type DeploymentRepo } from './db/deployments.ts';
import { deploymentLogRepo } from './db/deployment-logs.ts';
import { DeploymentLogs } from './deployments/logs.ts';
import { SourceStore } from './deployments/sources.ts';
import { deploymentService, type DeploymentService } from './deployments/service.ts';
import { DEFAULT_LIMITS } from './archive/limits.ts';
import { DeployWorker } from './jobs/worker.ts';
import { deploymentPipeline, type Releaser } from './jobs/pipeline.ts';
import { edgeRepo, type EdgeRepo } from './db/edge.ts';
import { releaseService, type ReleaseService } from './release/service.ts';
import { reconciler } from './release/reconciler.ts';
import { agentId } from './db/meta.ts';
import { envRepo } from './db/env.ts';
import { envService, type EnvService } from './env/service.ts';
import { SecretBox } from './secrets/secret-box.ts';
import { loadMasterKey } from './secrets/master-key.ts';
import { observeService, type ObserveService } from './observe/service.ts';
import { getMeta } from './db/meta.ts';
import type { EdgeStatsSnapshot } from './edge/stats.ts';
import { databaseRepo } from './db/databases.ts';
import { databaseService, type DatabaseService } from './databases/service.ts';

/** Everything the app and the CLI need, built once. */
export interface Deps {
  config: Config;
  db: Db;
  docker: Docker;
  log: Logger;
  startedAt: number;
  tokens: TokenService;
  projects: ProjectService;
  activity: ActivityService;
  deploymentRepo: DeploymentRepo;
  env: EnvService;
  observe: ObserveService;
  databases: DatabaseService;
  /** The edge's latest published request counters (from whichever process runs it). */
  edgeStats(): EdgeStatsSnapshot | null;
  deployments: DeploymentService;
  logs: DeploymentLogs;
  worker: DeployWorker;
  edge: EdgeRepo;
  releases: ReleaseService;
  reconciler: ReturnType<typeof reconciler>;
  close(): void;
}

/** Options that tests use to swap real clients for their own. */
export interface DepsOptions {
  /** Database file; defaults to `<data-dir>/slipway.db`. `:memory:` for throwaway state. */
  databaseFile?: string;
  docker?: Docker;
  log?: Logger;
  /** Replaces how built deployments go live (tests of the build pipeline alone). */
  release?: Releaser;
}

/** The one place real clients (database, Docker) are built. */
export function createDeps(config: Config, options: DepsOptions = {}): Deps {
  const databaseFile = options.databaseFile ?? join(config.dataDir, 'slipway.db');
  if (databaseFile !== ':memory:') mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const db = openDatabase(databaseFile);
  const activity = activityService(activityRepo(db));
  const docker = options.docker ?? createDockerClient(config);
  const log = options.log ?? createLogger(config.logLevel);
  const projects = projectRepo(db);
  const deployments = deploymentRepo(db);
  const box = new SecretBox(
    loadMasterKey({
      envKey: config.masterKey,
      credentialsDirectory: config.credentialsDirectory,
      dataDir: config.dataDir,
    }),
  );
  const env = envService({ db, env: envRepo(db), projects, activity, box });
  const projectOf = new Map<string, string>();
  const logs = new DeploymentLogs(deploymentLogRepo(db), (deploymentId) => {
    let projectId = projectOf.get(deploymentId);
    if (!projectId) {
      projectId = deployments.findAny(deploymentId)?.project_id;
      if (!projectId) return (line) => line;
      projectOf.set(deploymentId, projectId);
    }
    const masker = env.masker(projectId);
    return (line) => masker.mask(line);
  });
  const sources = new SourceStore(config.dataDir, {
    ...DEFAULT_LIMITS,
    maxEntries: config.maxArchiveEntries,
    maxTotalBytes: config.maxExpandedBytes,
  });
  const projectsService = projectService(db, projects, activity, config.baseDomain);
  const edge = edgeRepo(db);
  const agent = agentId(db);
  const releaseDeps = {
    agentId: agent,
    db,
    docker,
    edge,
    log,
    deployments,
    projects,
    activity,
    logs,
    drainTimeoutMs: config.drainTimeoutSeconds * 1000,
    releaseRetention: config.releaseRetention,
    // A deployment runs with the env it was released with: its snapshot, taken on first start.
    envFor(project: { id: string }, deployment: { id: string; env_snapshot: string | null }): Record<string, string> {
      if (deployment.env_snapshot) return env.openSnapshot(project.id, deployment.env_snapshot);
      const values = env.values(project.id);
      deployment.env_snapshot = env.sealSnapshot(project.id, values);
      deployments.update(deployment.id, { env_snapshot: deployment.env_snapshot });
      return values;
    },
    restoreEnv: (projectId: string, sealed: string) => env.restore(projectId, env.openSnapshot(projectId, sealed)),
    deleteProject: (actor: Actor, name: string) => projectsService.remove(actor, name),
    removeSources: (project: string) => sources.removeProject(project),
    cancelRunning: (deploymentId: string) => worker.cancel(deploymentId),
    // Resolved lazily: the database service is made further down, from services that need these deps.
    database: {
      has: (projectId: string) => databases.has(projectId),
      drop: (project: string) => databases.drop(project),
    },
  };
  const releases = releaseService(releaseDeps);
  const worker: DeployWorker = new DeployWorker(deployments, logs, log, config.buildConcurrency, (row, signal) =>
    pipeline(row, signal),
  );
  const pipeline = deploymentPipeline({
    agentId: agent,
    deployments,
    projects,
    logs,
    sources,
    docker,
    images: config.images,
    buildTimeoutMs: config.buildTimeoutSeconds * 1000,
    buildMemoryBytes: config.buildMemoryMb * 1024 * 1024,
    release: options.release ?? releases.release,
    finish: (id, status, reason) => worker.finish(id, status, reason),
  });
  const deploymentsService = deploymentService({
    db,
    deployments,
    projects,
    activity,
    logs,
    sources,
    log,
    maxUploadBytes: config.maxUploadBytes,
    sourceRetention: config.sourceRetention,
    worker,
    imageExists: (ref) =>
      docker
        .getImage(ref)
        .inspect()
        .then(
          () => true,
          () => false,
        ),
  });
  const databases = databaseService({
    db,
    docker,
    agentId: agent,
    image: config.images.postgres,
    databases: databaseRepo(db),
    projects,
    activity,
    env,
    box,
    redeploy: (actor, name) => deploymentsService.redeploy(actor, name, 'env'),
  });
  return {
    config,
    db,
    docker,
    log,
    startedAt: Date.now(),
    activity,
    tokens: tokenService(db, tokenRepo(db), activity),
    projects: projectsService,
    deploymentRepo: deployments,
    env,
    observe: observeService({ docker, agentId: agent, projects, deployments, env }),
    databases,
    edgeStats() {
      const json = getMeta(db, 'edge_stats');
      return json ? (JSON.parse(json) as EdgeStatsSnapshot) : null;
    },
    logs,
    worker,
    edge,
    releases,
    reconciler: reconciler(releaseDeps, releases.locks),
    deployments: deploymentsService,
    close: () => db.close(),
  };
}
