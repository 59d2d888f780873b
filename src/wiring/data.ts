/**
 * The third stage of createDeps (deps.ts): what holds a project's data: its Postgres, its volumes
 * and the backups of both and of Slipway itself.
 */
import type { Config } from '../config.ts';
import { databaseRepo } from '../db/databases.ts';
import { backupRepo } from '../db/backups.ts';
import { databaseService } from '../databases/service.ts';
import { volumeService } from '../volumes/service.ts';
import { backupService } from '../backups/service.ts';
import type { Core } from './core.ts';
import type { Shipping } from './shipping.ts';

/** Databases, volumes and backups. */
export function dataParts(config: Config, core: Core, shipping: Shipping) {
  const { db, docker, log, agent, repos, activity } = core;
  const databaseRows = databaseRepo(db);
  const databases = databaseService({
    db,
    runtime: core.runtime,
    agentId: agent,
    image: config.images.postgres,
    databases: databaseRows,
    projects: repos.projects,
    activity,
    env: core.env,
    box: core.box,
    redeploy: (actor, name) => shipping.deployments.redeploy(actor, name, 'env'),
  });
  const volumes = volumeService({
    db,
    docker,
    agentId: agent,
    repo: repos.volumes,
    projects: repos.projects,
    activity,
    mounts: shipping.mounts,
    sizes: shipping.volumeSizes,
    releases: shipping.releases,
    log,
    tmpDir: () => core.sources.tmpDir(),
    maxUploadBytes: config.maxUploadBytes,
    maxRestoreBytes: config.maxExpandedBytes,
  });
  const backups = backupService({
    config,
    db,
    dataDir: config.dataDir,
    docker,
    databaseStore: core.runtime.databases,
    agentId: agent,
    projects: repos.projects,
    databases: databaseRows,
    volumes: repos.volumes,
    lifecycle: core.lifecycle,
    log,
    repo: backupRepo(db),
    activity,
    key: config.backupPassphrase
      ? { kind: 'passphrase', passphrase: config.backupPassphrase }
      : { kind: 'master-key', key: core.masterKey },
  });
  return { databases, volumes, backups };
}
