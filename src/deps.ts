import type Docker from 'dockerode';
import type { Config } from './config.ts';
import type { Db } from './db/open.ts';
import type { DeploymentRepo } from './db/deployments.ts';
import type { InstanceRepo } from './db/instances.ts';
import type { EdgeRoutes } from './release/edge-routes.ts';
import type { ActivityService } from './activity/service.ts';
import { tokenService, type TokenService } from './tokens/service.ts';
import type { ProjectService } from './projects/service.ts';
import { projectTeardown, type ProjectTeardown } from './projects/teardown.ts';
import { dockerStatusCache, engineVersion, type DockerStatus } from './runtime/docker.ts';
import type { Logger } from './log.ts';
import type { DeploymentLogs } from './deployments/logs.ts';
import type { Lifecycle } from './deployments/lifecycle.ts';
import type { DeploymentService } from './deployments/service.ts';
import type { DeployWorker } from './jobs/worker.ts';
import type { Releaser } from './jobs/pipeline.ts';
import type { BuildIsolation } from './build/isolation.ts';
import type { ReleaseService } from './release/service.ts';
import { reconciler } from './release/reconciler.ts';
import type { EnvService } from './env/service.ts';
import { observeService, type ObserveService } from './observe/service.ts';
import type { EdgeStatsSnapshot } from './edge/stats.ts';
import type { DatabaseService } from './databases/service.ts';
import type { VolumeService } from './volumes/service.ts';
import type { BackupService } from './backups/service.ts';
import type { DomainService } from './domains/service.ts';
import type { DomainChecker } from './domains/checker.ts';
import type { CertificateService, CertificateTuning } from './certificates/service.ts';
import type { RegistryService } from './registries/service.ts';
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
import type { Runtime } from './runtime/runtime.ts';
import { routeFollower, type RouteFollower } from './release/follow.ts';
import { ExecSessions } from './exec/sessions.ts';
import { nodeService, type NodeService } from './nodes/service.ts';
import { coreParts, type Core } from './wiring/core.ts';
import { shippingParts, type Shipping } from './wiring/shipping.ts';
import { dataParts } from './wiring/data.ts';
import { domainParts } from './wiring/domains.ts';

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
 * made after everything it needs, in stages (src/wiring/): the database, engine client and route
 * table; projects, releases and the pipeline; data; domains; and project teardown last.
 */
export function createDeps(config: Config, options: DepsOptions = {}): Deps {
  const core = coreParts(config, options);
  const shipping = shippingParts(config, options, core);
  const data = dataParts(config, core, shipping);
  const { certificates, domains } = domainParts(config, options, core);
  const { db, docker, log, agent, repos, edge, runtime, lifecycle, activity } = core;
  const teardown = projectTeardown({
    agentId: agent,
    docker,
    runtime,
    edge,
    projects: repos.projects,
    projectService: shipping.projects,
    lifecycle,
    sources: core.sources,
    locks: shipping.releases.locks,
    database: data.databases,
    volumes: data.volumes,
    domains: domains.service,
    cancelRunning: (id) => shipping.worker.cancel(id),
    log,
  });
  const webhooks = createWebhooks({
    config,
    db,
    projects: repos.projects,
    activity,
    box: core.box,
    log,
    tuning: options.webhooks,
  });
  const deadLetter = deadLetterService({
    repo: deadLetterRepo(db),
    webhookRows: webhooks.repo,
    domains: repos.domains,
    deployments: shipping.deployments,
    webhooks: webhooks.service,
    backups: data.backups,
    certificates,
  });
  const tokens = tokenService(db, repos.tokens, activity);
  const sessions = sessionService(
    db,
    { repo: sessionRepo(db), tokenRepo: repos.tokens, tokens, activity },
    { sessionSeconds: config.consoleSessionSeconds },
  );
  return {
    ...clientsOf(config, options, core),
    ...servicesOf(config, core, shipping),
    ...data,
    teardown,
    tokens,
    sessions,
    certificates,
    domains: domains.service,
    domainChecker: domains.checker,
    webhooks: webhooks.service,
    webhookWorker: webhooks.worker,
    events: webhooks.bus,
    deadLetter,
  };
}

/** The clients and repositories the app reads directly. */
function clientsOf(config: Config, options: DepsOptions, core: Core) {
  const { db, edge } = core;
  return {
    config,
    db,
    docker: core.docker,
    log: core.log,
    startedAt: Date.now(),
    dockerStatus: options.dockerStatus ?? dockerStatusCache(engineVersion(config)),
    edgeStats: () => edge.stats(),
    deploymentRepo: core.repos.deployments,
    instances: core.repos.instances,
    runtime: core.runtime,
    edge,
    close: () => {
      edge.close();
      db.close();
    },
  };
}

/** The services of projects, deployments and live instances. */
function servicesOf(config: Config, core: Core, shipping: Shipping) {
  const { docker, runtime, lifecycle, env, activity, repos } = core;
  const { projects, deployments, sources } = { ...repos, sources: core.sources };
  return {
    activity,
    projects: shipping.projects,
    lifecycle,
    env,
    registries: core.registries,
    logs: core.logs,
    worker: shipping.worker,
    buildIsolation: shipping.buildIsolation,
    releases: shipping.releases,
    deployments: shipping.deployments,
    reconciler: reconciler(shipping.releaseDeps, shipping.releases.locks),
    observe: observeService({ docker, runtime, projects, lifecycle, env }),
    compareDeployments: (project: string, from: string, to: string) =>
      compareDeployments({ deployments, projects, sources, openSnapshot: env.openSnapshot }, project, from, to),
    exec: execService({
      docker,
      runtime,
      projects,
      lifecycle,
      activity,
      sessions: new ExecSessions(config.execMaxSessions),
      idleTimeoutMs: config.execIdleTimeoutSeconds * 1000,
    }),
    nodes: nodeService({ docker, agentId: core.agent, runtime: runtime.kind }),
    follower: routeFollower({
      runtime,
      projects,
      lifecycle,
      edge: core.edge,
      locks: shipping.releases.locks,
      log: core.log,
    }),
  };
}
