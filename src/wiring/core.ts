/**
 * The first stage of createDeps (deps.ts): the database and its repositories, the engine client,
 * the secrets box, the route table and the runtime, and the services every later stage uses.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { openDatabase } from '../db/open.ts';
import { tokenRepo } from '../db/tokens.ts';
import { projectRepo } from '../db/projects.ts';
import { activityRepo } from '../db/activity.ts';
import { deploymentRepo } from '../db/deployments.ts';
import { deploymentLogRepo } from '../db/deployment-logs.ts';
import { edgeRepo } from '../db/edge.ts';
import { envRepo } from '../db/env.ts';
import { instanceRepo } from '../db/instances.ts';
import { volumeRepo } from '../db/volumes.ts';
import { domainRepo } from '../db/domains.ts';
import { certificateRepo } from '../db/certificates.ts';
import { registryRepo } from '../db/registries.ts';
import { agentId } from '../db/meta.ts';
import { edgeStateFile, routeStoreFile } from '../edge/layout.ts';
import { routeStore } from '../edge/route-store-writer.ts';
import { edgeRoutes } from '../release/edge-routes.ts';
import { activityService } from '../activity/service.ts';
import { createDockerClient, lazyDockerClient } from '../runtime/docker.ts';
import { engineReads } from '../runtime/engine-reads.ts';
import { createRuntime } from '../runtime/choose.ts';
import { createLogger } from '../log.ts';
import { DeploymentLogs } from '../deployments/logs.ts';
import { SourceStore } from '../deployments/sources.ts';
import { deploymentLifecycle } from '../deployments/lifecycle.ts';
import { DEFAULT_LIMITS } from '../archive/limits.ts';
import { envService } from '../env/service.ts';
import { deploymentMasker } from '../env/deployment-masker.ts';
import { SecretBox } from '../secrets/secret-box.ts';
import { loadMasterKey } from '../secrets/master-key.ts';
import { hostEntries } from '../domains/hosts.ts';
import { publishedCertificates } from '../certificates/certificate-store.ts';
import { registryService } from '../registries/service.ts';
import type { DepsOptions } from '../deps.ts';

/** What coreParts builds. */
export type Core = ReturnType<typeof coreParts>;

/** The database, engine client, secrets and route table, with the services built on them alone. */
export function coreParts(config: Config, options: DepsOptions) {
  const base = foundation(config, options);
  return { ...base, edge: routeTable(config, base), ...services(config, base) };
}

type Base = ReturnType<typeof foundation>;

/** The database and its repositories, the engine client, the logger, the agent's id and the secrets box. */
function foundation(config: Config, options: DepsOptions) {
  const databaseFile = options.databaseFile ?? join(config.dataDir, 'slipway.db');
  if (databaseFile !== ':memory:') mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const db = openDatabase(databaseFile);
  const docker = options.docker ?? lazyDockerClient(() => createDockerClient(config), engineReads(config));
  const log = options.log ?? createLogger(config.logLevel);
  const agent = agentId(db);
  const masterKey = loadMasterKey({
    envKey: config.masterKey,
    credentialsDirectory: config.credentialsDirectory,
    dataDir: config.dataDir,
  });
  const box = new SecretBox(masterKey);
  const repos = {
    projects: projectRepo(db),
    tokens: tokenRepo(db),
    deployments: deploymentRepo(db),
    domains: domainRepo(db),
    certificates: certificateRepo(db),
    instances: instanceRepo(db),
    volumes: volumeRepo(db),
  };
  return { db, docker, log, agent, masterKey, box, repos };
}

/** The route table, publishing what the edge serves: routes, domains' host names and certificates. */
function routeTable(config: Config, { db, box, log, repos }: Base) {
  return edgeRoutes({
    db,
    repo: edgeRepo(db),
    store: routeStore(routeStoreFile(config.dataDir)),
    stateFile: edgeStateFile(config.dataDir),
    // What the edge serves besides routes: domains' host names, and certificates with their keys unsealed.
    published: () => ({
      hosts: hostEntries(repos.domains, { baseDomain: config.baseDomain, apiDomain: config.apiDomain }),
      certificates: publishedCertificates(repos.certificates, box, log),
    }),
  });
}

/** The runtime, activity log, env, registries, deployment logs, lifecycle and source store. */
function services(config: Config, { db, docker, log, agent, box, repos }: Base) {
  const runtime = createRuntime(config.runtime, config.swarmRegistry, {
    docker,
    records: repos.instances,
    agentId: agent,
    log,
    projectSubnets: config.projectSubnets,
  });
  const activity = activityService(activityRepo(db));
  const env = envService({ db, env: envRepo(db), projects: repos.projects, activity, box });
  const registries = registryService({ db, repo: registryRepo(db), activity, box });
  const logs = new DeploymentLogs(deploymentLogRepo(db), deploymentMasker(env, repos.deployments));
  const lifecycle = deploymentLifecycle({ db, deployments: repos.deployments, logs, log });
  const sources = new SourceStore(config.dataDir, {
    ...DEFAULT_LIMITS,
    maxEntries: config.maxArchiveEntries,
    maxTotalBytes: config.maxExpandedBytes,
  });
  return { runtime, activity, env, registries, logs, lifecycle, sources };
}
