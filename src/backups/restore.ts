/**
 * `slipway restore`: a data directory brought back from one backup file plus the master key. The
 * backup is read into a staging directory beside the target and checked whole (every part's
 * SHA-256, the state's integrity) before anything else happens; then the projects' volumes and
 * databases are made again on the engine, each live release is queued for a rebuild from its
 * stored source, and the staging directory becomes the data directory. A damaged backup, or any
 * failure on the way, leaves the target as it was and removes what the restore had made.
 */
import { createReadStream, existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '../config.ts';
import { createDeps, type Deps } from '../deps.ts';
import type { Actor } from '../activity/service.ts';
import { randomToken } from '../ids.ts';
import { cleanVolumeArchive } from '../volumes/clean-archive.ts';
import { createDockerVolume, inspectDockerVolume, removeDockerVolume } from '../volumes/docker-volumes.ts';
import { FILL_PREFIX, fillVolume } from '../volumes/archive.ts';
import { projectRepo } from '../db/projects.ts';
import { volumeRepo } from '../db/volumes.ts';
import { agentId } from '../db/meta.ts';
import { databaseRepo } from '../db/databases.ts';
import { SecretBox } from '../secrets/secret-box.ts';
import { loadMasterKey } from '../secrets/master-key.ts';
import type { KeySource } from './crypto.ts';
import type { BackedUpProject, BackupManifest } from './manifest.ts';
import { unpackBackup } from './read.ts';
import { checkState } from './service.ts';

/** The actor a restore records itself as, in the restored activity log. */
const RESTORER: Actor = { tokenId: null, tokenName: 'slipway restore', requestId: null, clientIp: null };

/** What a restore needs. */
export interface RestoreOptions {
  source: Readable;
  /** The fresh data directory to restore into (absent, or empty). */
  dataDir: string;
  config: Config;
  key: KeySource;
  /** The master key file's content, written into the data directory (when it came from a file). */
  masterKeyFile: string | null;
  /** Restores this project only (the others are left out of the restored state). */
  only: string | null;
  /** Progress lines. */
  say(line: string): void;
}

/** Restores a backup into a fresh data directory; returns the manifest. */
export async function restoreBackup(o: RestoreOptions): Promise<BackupManifest> {
  const target = resolve(o.dataDir);
  if (existsSync(target) && readdirSync(target).length > 0)
    throw new Error(`Cannot restore into ${target}: the directory is not empty (restore into a fresh data directory)`);
  const staging = join(dirname(target), `.${basename(target)}.restoring-${randomToken(8)}`);
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const made: (() => Promise<void>)[] = [];
  try {
    const wanted = (part: string) =>
      o.only === null || !/^(databases|volumes|sources)\//.test(part) || partOf(part) === o.only;
    o.say('Reading and checking the backup');
    const manifest = await unpackBackup(o.source, o.key, staging, wanted);
    checkState(join(staging, 'slipway.db'));
    if (o.only !== null && !manifest.projects.some((p) => p.name === o.only))
      throw new Error(`The backup has no project named "${o.only}"`);
    o.say(`Backup ${manifest.id} of ${manifest.created_at} is intact (${manifest.parts.length} parts)`);
    if (o.masterKeyFile !== null) writeFileSync(join(staging, 'master.key'), o.masterKeyFile, { mode: 0o600 });
    const deps = restoreDeps({ ...o.config, dataDir: staging });
    try {
      const projects = manifest.projects.filter((p) => o.only === null || p.name === o.only);
      if (o.only !== null) await leaveOut(deps, staging, o.only);
      resetRuntime(deps);
      // The state was copied while this very backup was being made: it is complete now.
      deps.db
        .prepare(
          "UPDATE backups SET status = 'complete', manifest = ?, finished_at = ? WHERE id = ? AND status = 'running'",
        )
        .run(JSON.stringify(manifest), manifest.created_at, manifest.id);
      for (const p of projects) await restoreProject(deps, staging, p, made, o.say);
      deps.activity.record(RESTORER, {
        action: 'backup.restore',
        targetType: 'backup',
        target: manifest.id,
        changes: { created_at: manifest.created_at, projects: projects.map((p) => p.name) },
      });
    } finally {
      deps.close();
    }
    await rm(join(staging, 'restore-parts'), { recursive: true, force: true });
    if (existsSync(target)) rmdirSync(target);
    await rename(staging, target);
    o.say(`Restored into ${target}; \`slipway serve --data-dir ${target}\` rebuilds and starts the live releases`);
    return manifest;
  } catch (err) {
    for (const undo of made.reverse()) await undo().catch(() => {});
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** The agent's dependencies on the staging directory, plus the repositories and secret box a restore uses. */
type RestoreDeps = Deps & {
  agentId: string;
  projectRepo: ReturnType<typeof projectRepo>;
  volumeRepo: ReturnType<typeof volumeRepo>;
  databaseRepo: ReturnType<typeof databaseRepo>;
  box: SecretBox;
};

function restoreDeps(config: Config): RestoreDeps {
  const deps = createDeps(config);
  const key = loadMasterKey({
    envKey: config.masterKey,
    credentialsDirectory: config.credentialsDirectory,
    dataDir: config.dataDir,
  });
  return Object.assign(deps, {
    agentId: agentId(deps.db),
    projectRepo: projectRepo(deps.db),
    volumeRepo: volumeRepo(deps.db),
    databaseRepo: databaseRepo(deps.db),
    box: new SecretBox(key),
  });
}

function partOf(part: string): string {
  return part.split('/')[1]!.replace(/\.dump$/, '');
}

/** Drops every project but `only` from the restored state, with their stored sources. */
async function leaveOut(deps: RestoreDeps, staging: string, only: string): Promise<void> {
  for (const p of deps.projectRepo.all()) {
    if (p.name === only) continue;
    deps.projectRepo.remove(p.name);
    await rm(join(staging, 'sources', p.name), { recursive: true, force: true });
  }
}

/** The old host's containers and their addresses are gone: forget them, and route nothing until new ones run. */
function resetRuntime(deps: RestoreDeps): void {
  deps.db.prepare('DELETE FROM instances').run();
  for (const p of deps.projectRepo.all())
    deps.edge.setRoute({ project: p.name, deployment_id: null, hostnames: [], targets: [] });
}

async function restoreProject(
  deps: RestoreDeps,
  staging: string,
  p: BackedUpProject,
  made: (() => Promise<void>)[],
  say: (line: string) => void,
): Promise<void> {
  const row = deps.projectRepo.findByName(p.name);
  if (!row) throw new Error(`The restored state has no project "${p.name}"`);
  const parts = join(staging, 'restore-parts');
  const who = { agentId: deps.agentId, project: p.name };
  for (const name of p.volumes) {
    const volume = deps.volumeRepo.find(row.id, name);
    if (!volume) throw new Error(`The restored state has no volume "${name}" of "${p.name}"`);
    if (await inspectDockerVolume(deps.docker, deps.agentId, volume.docker_name))
      throw new Error(
        `Docker volume ${volume.docker_name} already exists: restore onto an engine the original agent no longer uses`,
      );
    await createDockerVolume(deps.docker, {
      ...who,
      volume: name,
      dockerName: volume.docker_name,
      limitBytes: volume.size_limit_bytes,
    });
    made.push(() => removeDockerVolume(deps.docker, deps.agentId, volume.docker_name));
    const clean = join(parts, `${p.name}-${name}.clean.tar`);
    await cleanVolumeArchive({
      input: join(parts, 'volumes', p.name, `${name}.tar`),
      gzip: false,
      output: clean,
      prefix: FILL_PREFIX,
      limits: { maxEntries: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER },
    });
    await fillVolume(deps.docker, who, volume.docker_name, clean);
    say(`Restored volume ${name} of ${p.name}`);
  }
  if (p.database) await restoreProjectDatabase(deps, p.name, row.id, join(parts, 'databases', `${p.name}.dump`), made);
  if (p.database) say(`Restored the database of ${p.name}`);
  if (p.live_deployment) {
    const queued = deps.deployments.retry(RESTORER, p.name, p.live_deployment);
    say(`Queued deployment #${queued.number} of ${p.name}: a rebuild of the live release from its stored source`);
  }
}

async function restoreProjectDatabase(
  deps: RestoreDeps,
  project: string,
  projectId: string,
  dump: string,
  made: (() => Promise<void>)[],
): Promise<void> {
  const row = deps.databaseRepo.find(projectId);
  if (!row) throw new Error(`The restored state has no database of "${project}"`);
  // The same password: the app's sealed DATABASE_URL stays right.
  const password = deps.box.open(row.password, `database:${projectId}`);
  const store = deps.runtime.databases;
  const network = await deps.runtime.ensureNetwork(project);
  const { recordId, imageId } = await store.provision(
    { agentId: deps.agentId, project, image: deps.config.images.postgres, network, password },
    { timeoutMs: 120_000 },
  );
  const ref = { agentId: deps.agentId, containerId: recordId, imageId };
  made.push(() => store.drop(ref, project));
  deps.databaseRepo.setContainer(projectId, recordId, imageId);
  await store.restore(ref, project, createReadStream(dump));
}
