import type Docker from 'dockerode';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.ts';
import { openDatabase, type Db } from './db/open.ts';
import { tokenRepo } from './db/tokens.ts';
import { projectRepo } from './db/projects.ts';
import { activityRepo } from './db/activity.ts';
import { activityService, type ActivityService } from './activity/service.ts';
import { tokenService, type TokenService } from './tokens/service.ts';
import { projectService, type ProjectService } from './projects/service.ts';
import { createDockerClient } from './runtime/docker.ts';
import { createLogger, type Logger } from './log.ts';

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
  close(): void;
}

/** Options that tests use to swap real clients for their own. */
export interface DepsOptions {
  /** Database file; defaults to `<data-dir>/slipway.db`. `:memory:` for throwaway state. */
  databaseFile?: string;
  docker?: Docker;
  log?: Logger;
}

/** The one place real clients (database, Docker) are built. */
export function createDeps(config: Config, options: DepsOptions = {}): Deps {
  const databaseFile = options.databaseFile ?? join(config.dataDir, 'slipway.db');
  if (databaseFile !== ':memory:') mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const db = openDatabase(databaseFile);
  const activity = activityService(activityRepo(db));
  return {
    config,
    db,
    docker: options.docker ?? createDockerClient(config),
    log: options.log ?? createLogger(config.logLevel),
    startedAt: Date.now(),
    activity,
    tokens: tokenService(db, tokenRepo(db), activity),
    projects: projectService(db, projectRepo(db), activity, config.baseDomain),
    close: () => db.close(),
  };
}
