import type Docker from 'dockerode';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.ts';
import { openDatabase, type Db } from './db/open.ts';
import { tokenRepo } from './db/tokens.ts';
import { projectRepo } from './db/projects.ts';
import { activityRepo } from './db/activity.ts';
import { deploymentRepo, type DeploymentRepo } from './db/deployments.ts';
import { deploymentLogRepo } from './db/deployment-logs.ts';
import { edgeRepo } from './db/edge.ts';
import { envRepo } from './db/env.ts';
import { databaseRepo } from './db/databases.ts';
import { relaxedCommits } from './db/relaxed.ts';
import { instanceRepo, type InstanceRepo } from './db/instances.ts';
import { agentId } from './db/meta.ts';
import { edgeStateFile, routeStoreFile } from './edge/layout.ts';
import { routeStore } from './edge/route-store-writer.ts';
import { edgeRoutes, type EdgeRoutes } from './release/edge-routes.ts';
import { activityService, type ActivityService } from './activity/service.ts';
import { tokenService, type TokenService } from './tokens/service.ts';
import { projectService, type ProjectService } from './projects/service.ts';
import { projectTeardown, type ProjectTeardown } from './projects/teardown.ts';
import { createDockerClient, dockerStatusCache, imageExists, type DockerStatus } from './runtime/docker.ts';
import { engineVersion, lazyDockerClient } from './runtime/docker.ts';
import { createLogger, type Logger } from './log.ts';
import { DeploymentLogs } from './deployments/logs.ts';
import { SourceStore } from './deployments/sources.ts';
import { deploymentLifecycle, type Lifecycle } from './deployments/lifecycle.ts';
import { deploymentService, type DeploymentService } from './deployments/service.ts';
import { DEFAULT_LIMITS } from './archive/limits.ts';
import { DeployWorker } from './jobs/worker.ts';
import { deploymentPipeline, type Releaser } from './jobs/pipeline.ts';
import { BuildIsolation, isolationSettings } from './build/isolation.ts';
import { releaseService, type ReleaseService } from './release/service.ts';
import { releaseEnv } from './release/release-env.ts';
import { reconciler } from './release/reconciler.ts';
import { envService, type EnvService } from './env/service.ts';
import { deploymentMasker } from './env/deployment-masker.ts';
import { SecretBox } from './secrets/secret-box.ts';
import { loadMasterKey } from './secrets/master-key.ts';
import { observeService, type ObserveService } from './observe/service.ts';
import type { EdgeStatsSnapshot } from './edge/stats.ts';
import { databaseService, type DatabaseService } from './databases/service.ts';
import { volumeRepo } from './db/volumes.ts';
import { VolumeSizes } from './volumes/sizes.ts';
import { VolumeQuotaProbe } from './volumes/quota.ts';
import { volumeMounts } from './volumes/mounts.ts';
import { volumeService, type VolumeService } from './volumes/service.ts';
import { backupRepo } from './db/backups.ts';
import { backupService, type BackupService } from './backups/service.ts';
import { domainRepo } from './db/domains.ts';
import { certificateRepo } from './db/certificates.ts';
import { hostEntries } from './domains/hosts.ts';
import { createDomains } from './domains/setup.ts';
import type { DomainService } from './domains/service.ts';
import type { DomainChecker } from './domains/checker.ts';
import { publishedCertificates } from './certificates/certificate-store.ts';
import { certificateService, type CertificateService, type CertificateTuning } from './certificates/service.ts';
import { registryRepo } from './db/registries.ts';
import { registryService, type RegistryService } from './registries/service.ts';
import { compareDeployments, type DeploymentComparison } from './deployments/compare.ts';
import { createWebhooks, type WebhookTuning } from './webhooks/setup.ts';
import type { WebhookService } from './webhooks/service.ts';
import type { DeliveryWorker } from './webhooks/delivery-worker.ts';
import type { EventBus } from './events/bus.ts';
import { deadLetterRepo } from './db/dead-letter.ts';
import { deadLetterService, type DeadLetterService } from './ops/dead-letter.ts';
import { sessionRepo } from './db/sessions.ts';
import { sessionService, type SessionService } from './sessions/service.ts';
import { execService, type ExecService } from './exec/service.ts';
import { createRuntime } from './runtime/choose.ts';
import type { Runtime } from './runtime/runtime.ts';
import { routeFollower, type RouteFollower } from './release/follow.ts';
import { ExecSessions } from './exec/sessions.ts';
import { nodeService, type NodeService } from './nodes/service.ts';

/** Everything the app and the CLI need, built once. */
export interface Deps {
  config: Config;
  db: Db;
  docker: Docker;
  log: Logger;
  startedAt: number;
  tokens: TokenService;
  projects: ProjectService;
  teardown: ProjectTeardown;
  activity: ActivityService;
  deploymentRepo: DeploymentRepo;
  /** The app containers Slipway started, by id. */
  instances: InstanceRepo;
  lifecycle: Lifecycle;
  env: EnvService;
  observe: ObserveService;
  databases: DatabaseService;
  volumes: VolumeService;
  /** Backups of everything; serve runs their schedule. */
  backups: BackupService;
  /** Custom domains of projects. */
  domains: DomainService;
  /** Re-checks pending domains and hands verified ones to the certificate issuer; serve starts it. */
  domainChecker: DomainChecker;
  /** The engine's status for /v1/health: a single-flight ping, reused for a second. */
  dockerStatus(): Promise<DockerStatus>;
  /** The edge's latest published request counters (from whichever process runs it). */
  edgeStats(): EdgeStatsSnapshot | null;
  deployments: DeploymentService;
  logs: DeploymentLogs;
  worker: DeployWorker;
  /** The build network, firewall and process limits every build runs in. */
  buildIsolation: BuildIsolation;
  /** The route table: recorded here, published to the route store the edge reads. */
  edge: EdgeRoutes;
  releases: ReleaseService;
  reconciler: ReturnType<typeof reconciler>;
  /** ACME orders, renewals and uploaded certificates. */
  certificates: CertificateService;
  /** Pull credentials for prebuilt images, per registry host. */
  registries: RegistryService;
  /** What differs between two deployments of a project. */
  compareDeployments(project: string, from: string, to: string): Promise<DeploymentComparison>;
  /** Webhooks and their deliveries; serve starts the delivery worker. */
  webhooks: WebhookService;
  webhookWorker: DeliveryWorker;
  /** Status changes of deployments, domains, certificates and backups, from the database's outbox. */
  events: EventBus;
  /** What gave up, and its retries. */
  deadLetter: DeadLetterService;
  /** Console sign-ins: session cookies and one-time login links. */
  sessions: SessionService;
  /** Commands run in live instances over WebSockets. */
  exec: ExecService;
  /** The nodes the apps run on and Slipway's tasks on them. */
  nodes: NodeService;
  /** Where app instances run (SLIPWAY_RUNTIME). */
  runtime: Runtime;
  /** Keeps the edge on the live instances' addresses when the runtime moves them; serve starts it. */
  follower: RouteFollower;
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
  /** Replaces the host's build isolation (tests that make a network and firewall of their own). */
  buildIsolation?: BuildIsolation;
  /** The certificate service's clock, CA polling and limits (tests move the clock to force renewals). */
  certificates?: CertificateTuning;
  /** The webhook worker's timings, clock and name resolution. */
  webhooks?: WebhookTuning;
  /** The engine status /v1/health reports, when `serve` started its first ping before wiring the rest. */
  dockerStatus?: () => Promise<DockerStatus>;
}

/**
 * The one place real clients (database, Docker) are built and the services wired together, each
 * made after everything it needs: repositories, then env and logs, the lifecycle, releases, the
 * pipeline and its worker, the services that queue work, and project teardown last.
 */
export function createDeps(config: Config, options: DepsOptions = {}): Deps {
  const databaseFile = options.databaseFile ?? join(config.dataDir, 'slipway.db');
  if (databaseFile !== ':memory:') mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const db = openDatabase(databaseFile);
  const docker = options.docker ?? lazyDockerClient(() => createDockerClient(config));
  const log = options.log ?? createLogger(config.logLevel);
  const agent = agentId(db);
  const projects = projectRepo(db);
  const tokens = tokenRepo(db);
  const deployments = deploymentRepo(db);
  const domainRows = domainRepo(db);
  const masterKey = loadMasterKey({
    envKey: config.masterKey,
    credentialsDirectory: config.credentialsDirectory,
    dataDir: config.dataDir,
  });
  const box = new SecretBox(masterKey);
  const certificateRows = certificateRepo(db);
  const edge = edgeRoutes({
    db,
    repo: edgeRepo(db),
    store: routeStore(routeStoreFile(config.dataDir)),
    stateFile: edgeStateFile(config.dataDir),
    // What the edge serves besides routes: domains' host names, and certificates with their keys unsealed.
    published: () => ({
      hosts: hostEntries(domainRows, { baseDomain: config.baseDomain, apiDomain: config.apiDomain }),
      certificates: publishedCertificates(certificateRows, box, log),
    }),
  });
  const instances = instanceRepo(db);
  const runtime = createRuntime(config.runtime, config.swarmRegistry, {
    docker,
    records: instances,
    agentId: agent,
    log,
    projectSubnets: config.projectSubnets,
  });
  const activity = activityService(activityRepo(db));
  const env = envService({ db, env: envRepo(db), projects, activity, box });
  const registries = registryService({ db, repo: registryRepo(db), activity, box });
  const logs = new DeploymentLogs(deploymentLogRepo(db), deploymentMasker(env, deployments));
  const lifecycle = deploymentLifecycle({ db, deployments, logs, log });
  const sources = new SourceStore(config.dataDir, {
    ...DEFAULT_LIMITS,
    maxEntries: config.maxArchiveEntries,
    maxTotalBytes: config.maxExpandedBytes,
  });
  const volumes = volumeRepo(db);
  const volumeSizes = new VolumeSizes(docker, log);
  const mounts = volumeMounts({
    docker,
    agentId: agent,
    repo: volumes,
    quota: new VolumeQuotaProbe(docker, agent),
    log,
  });
  const projectsService = projectService(db, projects, activity, config.baseDomain, tokens, (id) =>
    volumeSizes.projectTotal(id, (projectId) => volumes.ofProject(projectId).map((v) => v.docker_name)),
  );

  const releasing = releaseEnv(env, deployments, relaxedCommits(db));
  const releaseDeps = {
    agentId: agent,
    db,
    docker,
    runtime,
    edge,
    log,
    deployments,
    lifecycle,
    projects,
    activity,
    logs,
    drainTimeoutMs: config.drainTimeoutSeconds * 1000,
    releaseRetention: config.releaseRetention,
    envFor: releasing.envFor,
    restoreEnv: releasing.restore,
    mountsFor: mounts.mountsFor,
  };
  const releases = releaseService(releaseDeps);
  const buildIsolation = options.buildIsolation ?? new BuildIsolation(docker, isolationSettings(config));
  const pipeline = deploymentPipeline({
    agentId: agent,
    deployments,
    lifecycle,
    projects,
    logs,
    sources,
    docker,
    runtime,
    images: config.images,
    buildTimeoutMs: config.buildTimeoutSeconds * 1000,
    buildMemoryBytes: config.buildMemoryMb * 1024 * 1024,
    isolation: buildIsolation,
    release: options.release ?? releases.release,
    pulls: {
      pullMaxBytes: config.pullMaxBytes,
      pullTimeoutMs: config.pullTimeoutSeconds * 1000,
      authFor: registries.authFor,
    },
  });
  const worker = new DeployWorker({
    deployments,
    lifecycle,
    logs,
    log,
    concurrency: config.buildConcurrency,
    runner: pipeline,
  });
  const deploymentsService = deploymentService({
    db,
    deployments,
    lifecycle,
    projects,
    activity,
    logs,
    sources,
    log,
    maxUploadBytes: config.maxUploadBytes,
    sourceRetention: config.sourceRetention,
    deploymentRetention: config.deploymentRetention,
    worker,
    imageExists: (ref) => imageExists(docker, ref),
    changesOfRestore: releasing.changesOfRestore,
    registries,
  });
  const databaseRows = databaseRepo(db);
  const databases = databaseService({
    db,
    runtime,
    agentId: agent,
    image: config.images.postgres,
    databases: databaseRows,
    projects,
    activity,
    env,
    box,
    redeploy: (actor, name) => deploymentsService.redeploy(actor, name, 'env'),
  });
  const volumesService = volumeService({
    db,
    docker,
    agentId: agent,
    repo: volumes,
    projects,
    activity,
    mounts,
    sizes: volumeSizes,
    releases,
    log,
    tmpDir: () => sources.tmpDir(),
    maxUploadBytes: config.maxUploadBytes,
    maxRestoreBytes: config.maxExpandedBytes,
  });
  const certificates = certificateService({ config, db, box, edge, activity, log, ...options.certificates });
  const domains = createDomains({
    config,
    db,
    repo: domainRows,
    projects,
    certificates: certificateRows,
    activity,
    edge,
    log,
    // The certificate service is both: it orders certificates for verified domains and removes a deleted one's.
    issuer: certificates,
    certificateRemover: certificates,
  });
  const backups = backupService({
    config,
    db,
    dataDir: config.dataDir,
    docker,
    databaseStore: runtime.databases,
    agentId: agent,
    projects,
    databases: databaseRows,
    volumes,
    lifecycle,
    log,
    repo: backupRepo(db),
    activity,
    key: config.backupPassphrase
      ? { kind: 'passphrase', passphrase: config.backupPassphrase }
      : { kind: 'master-key', key: masterKey },
  });
  const teardown = projectTeardown({
    agentId: agent,
    docker,
    runtime,
    edge,
    projects,
    projectService: projectsService,
    lifecycle,
    sources,
    locks: releases.locks,
    database: databases,
    volumes: volumesService,
    domains: domains.service,
    cancelRunning: (id) => worker.cancel(id),
  });
  const webhooks = createWebhooks({ config, db, projects, activity, box, log, tuning: options.webhooks });
  const deadLetter = deadLetterService({
    repo: deadLetterRepo(db),
    webhookRows: webhooks.repo,
    domains: domainRows,
    deployments: deploymentsService,
    webhooks: webhooks.service,
    backups,
    certificates,
  });
  const tokenSvc = tokenService(db, tokens, activity);
  const sessions = sessionService(
    db,
    { repo: sessionRepo(db), tokenRepo: tokens, tokens: tokenSvc, activity },
    { sessionSeconds: config.consoleSessionSeconds },
  );
  return {
    config,
    db,
    docker,
    log,
    startedAt: Date.now(),
    dockerStatus: options.dockerStatus ?? dockerStatusCache(engineVersion(config)),
    activity,
    tokens: tokenSvc,
    projects: projectsService,
    teardown,
    deploymentRepo: deployments,
    instances,
    lifecycle,
    env,
    observe: observeService({ docker, runtime, projects, lifecycle, env }),
    databases,
    volumes: volumesService,
    backups,
    domains: domains.service,
    domainChecker: domains.checker,
    edgeStats: () => edge.stats(),
    logs,
    worker,
    buildIsolation,
    edge,
    releases,
    reconciler: reconciler(releaseDeps, releases.locks),
    deployments: deploymentsService,
    certificates,
    registries,
    compareDeployments: (project, from, to) =>
      compareDeployments({ deployments, projects, sources, openSnapshot: env.openSnapshot }, project, from, to),
    webhooks: webhooks.service,
    webhookWorker: webhooks.worker,
    events: webhooks.bus,
    deadLetter,
    sessions,
    exec: execService({
      docker,
      runtime,
      projects,
      lifecycle,
      activity,
      sessions: new ExecSessions(config.execMaxSessions),
      idleTimeoutMs: config.execIdleTimeoutSeconds * 1000,
    }),
    nodes: nodeService({ docker, agentId: agent, runtime: runtime.kind }),
    runtime,
    follower: routeFollower({ runtime, projects, lifecycle, edge, locks: releases.locks, log }),
    close: () => {
      edge.close();
      db.close();
    },
  };
}
