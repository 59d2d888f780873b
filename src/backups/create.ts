/**
 * Making one backup: every part is first written to a staging directory (hashed on the way), then
 * the manifest and the parts are packed into one tar, sealed (crypto.ts) and streamed to the
 * destination. Parts: the state (an online SQLite backup, consistent while the agent runs), the
 * admin token file, each project's pg_dump and volumes, and the stored source of each live release.
 */
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tarStream } from '../lazy-libraries.ts';
import type { Db } from '../db/open.ts';
import type { ProjectRepo } from '../db/projects.ts';
import type { DatabaseRepo } from '../db/databases.ts';
import type { VolumeRepo } from '../db/volumes.ts';
import type { Lifecycle } from '../deployments/lifecycle.ts';
import type { Logger } from '../log.ts';
import { MIGRATIONS } from '../db/migrate.ts';
import type { DatabaseStore } from '../databases/store.ts';
import { readVolume } from '../volumes/archive.ts';
import { VERSION } from '../version.ts';
import { EncryptStream, type KeySource, newHeader } from './crypto.ts';
import type { Destination } from './destination.ts';
import type { BackedUpProject, BackupManifest, BackupPart } from './manifest.ts';

/** What making a backup reads. */
export interface BackupSources {
  db: Db;
  dataDir: string;
  docker: Docker;
  /** Where projects' databases run (a container, or a Swarm service). */
  databaseStore: DatabaseStore;
  agentId: string;
  projects: ProjectRepo;
  databases: DatabaseRepo;
  volumes: VolumeRepo;
  lifecycle: Lifecycle;
  log: Logger;
}

/** A finished backup. */
export interface MadeBackup {
  location: string;
  bytes: number;
  sha256: string;
  manifest: BackupManifest;
}

/** The file name of a backup: when it was made, and its id (names sort by time). */
export function backupFileName(id: string, createdAt: string): string {
  return `slipway-${createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${id.slice(-8)}.slwb`;
}

/** Writes a stream to `path`, returning its size and SHA-256. */
async function spool(source: Readable, path: string): Promise<{ bytes: number; sha256: string }> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(
    source,
    new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        cb(null, chunk);
      },
    }),
    createWriteStream(path, { mode: 0o600 }),
  );
  return { bytes, sha256: hash.digest('hex') };
}

/** The size and SHA-256 of a file. */
export async function hashFile(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Gathers every part into `staging`; returns the parts and what each project has. */
async function gather(s: BackupSources, staging: string, log: (line: string) => void) {
  const parts: BackupPart[] = [];
  const add = async (path: string, source: Readable) => {
    parts.push({ path, ...(await spool(source, join(staging, path))) });
  };
  mkdirSync(join(staging, 'state'), { recursive: true, mode: 0o700 });
  await s.db.backup(join(staging, 'state/slipway.db'));
  parts.push({ path: 'state/slipway.db', ...(await hashFile(join(staging, 'state/slipway.db'))) });
  const token = join(s.dataDir, 'admin-token');
  if (existsSync(token)) await add('state/admin-token', createReadStream(token));
  log(`backup: state (${parts[0]!.bytes} bytes)`);

  const projects: BackedUpProject[] = [];
  for (const p of s.projects.all()) {
    const database = s.databases.find(p.id);
    if (database) {
      const ref = { agentId: s.agentId, containerId: database.container_id, imageId: database.image_id };
      await add(`databases/${p.name}.dump`, await s.databaseStore.dump(ref, p.name));
      log(`backup: database of ${p.name}`);
    }
    const volumes = s.volumes.ofProject(p.id);
    for (const v of volumes) {
      const tar = await readVolume(s.docker, { agentId: s.agentId, project: p.name }, v.docker_name);
      await add(`volumes/${p.name}/${v.name}.tar`, tar);
      log(`backup: volume ${v.name} of ${p.name}`);
    }
    const live = s.lifecycle.liveOf(p.id);
    if (live?.source_path && existsSync(join(s.dataDir, live.source_path))) {
      await add(live.source_path, createReadStream(join(s.dataDir, live.source_path)));
      const manifest = live.source_path.replace(/\.tar\.gz$/, '.manifest.json');
      if (existsSync(join(s.dataDir, manifest))) await add(manifest, createReadStream(join(s.dataDir, manifest)));
    }
    projects.push({
      name: p.name,
      database: database !== undefined,
      volumes: volumes.map((v) => v.name),
      live_deployment: live?.source_path ? live.id : null,
    });
  }
  return { parts, projects };
}

/** Makes one backup of everything into `destination`; `staging` must be an empty directory it may use. */
export async function makeBackup(
  s: BackupSources,
  opts: { id: string; createdAt: string; key: KeySource; destination: Destination; staging: string },
): Promise<MadeBackup> {
  const log = (line: string) => s.log.info(line, { backup: opts.id });
  const { parts, projects } = await gather(s, opts.staging, log);
  const header = newHeader(opts.key, opts.id, opts.createdAt);
  const manifest: BackupManifest = {
    format: 1,
    id: opts.id,
    created_at: opts.createdAt,
    slipway_version: VERSION,
    schema_version: MIGRATIONS.length,
    kdf: header.kdf,
    projects,
    parts,
  };
  const tar = tarStream().pack();
  const sealed = new EncryptStream(opts.key, header);
  const hash = createHash('sha256');
  let bytes = 0;
  const counted = new PassThrough();
  counted.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  const packing = (async () => {
    const entry = (name: string, body: Buffer) =>
      new Promise<void>((resolve, reject) =>
        tar.entry({ name, mode: 0o600 }, body, (err) => (err ? reject(err) : resolve())),
      );
    await entry('manifest.json', Buffer.from(JSON.stringify(manifest)));
    for (const part of parts) {
      const file = join(opts.staging, part.path);
      const sink = tar.entry({ name: part.path, size: statSync(file).size, mode: 0o600 });
      await pipeline(createReadStream(file), sink);
    }
    tar.finalize();
  })();
  const piping = pipeline(tar, sealed, counted).catch((err) => {
    counted.destroy(err);
    throw err;
  });
  const [location] = await Promise.all([
    opts.destination.write(backupFileName(opts.id, opts.createdAt), counted),
    packing,
    piping,
  ]);
  log(`backup: ${bytes} bytes written to ${location}`);
  return { location, bytes, sha256: hash.digest('hex'), manifest };
}
