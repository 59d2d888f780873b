/** Where backup files go and come from: a local directory, or an S3-compatible bucket (Bun's S3 client). */
import { createReadStream, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config.ts';

/** A place to keep backup files. */
export interface Destination {
  kind: 'local' | 's3';
  /** Stores `data` as `name`; resolves with the location to read it back from. */
  write(name: string, data: Readable): Promise<string>;
}

/** The settings S3 access needs. */
type S3Settings = Pick<
  Config,
  'backupS3' | 'backupS3Endpoint' | 'backupS3Region' | 'backupS3AccessKeyId' | 'backupS3SecretAccessKey'
>;

/** The local directory of backups: SLIPWAY_BACKUP_DIR, else <data-dir>/backups. */
export function localBackupDir(config: Pick<Config, 'backupDir' | 'dataDir'>): string {
  return resolve(config.backupDir ?? join(config.dataDir, 'backups'));
}

/** Files in a local directory (mode 0600, written under a temporary name and renamed when complete). */
export function localDestination(dir: string): Destination {
  return {
    kind: 'local',
    async write(name, data) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const path = join(dir, name);
      try {
        await pipeline(data, createWriteStream(`${path}.partial`, { mode: 0o600 }));
        await rename(`${path}.partial`, path);
      } catch (err) {
        await rm(`${path}.partial`, { force: true });
        throw err;
      }
      return path;
    },
  };
}

function s3Client(config: S3Settings, bucket: string): Bun.S3Client {
  return new Bun.S3Client({
    bucket,
    region: config.backupS3Region,
    ...(config.backupS3Endpoint ? { endpoint: config.backupS3Endpoint } : {}),
    ...(config.backupS3AccessKeyId ? { accessKeyId: config.backupS3AccessKeyId } : {}),
    ...(config.backupS3SecretAccessKey ? { secretAccessKey: config.backupS3SecretAccessKey } : {}),
  });
}

/** Objects under SLIPWAY_BACKUP_S3_URL, uploaded in parts as they are produced. */
export function s3Destination(config: S3Settings): Destination {
  if (!config.backupS3) throw new Error('No S3 destination is configured: set SLIPWAY_BACKUP_S3_URL');
  const { bucket, prefix } = config.backupS3;
  const client = s3Client(config, bucket);
  return {
    kind: 's3',
    async write(name, data) {
      const key = prefix ? `${prefix}/${name}` : name;
      const writer = client.file(key).writer({ partSize: 8 * 1024 * 1024, retry: 2 });
      try {
        for await (const chunk of data) await writer.write(chunk as Buffer);
        await writer.end();
      } catch (err) {
        await Promise.resolve(writer.end(err as Error)).catch(() => {});
        throw err;
      }
      return `s3://${bucket}/${key}`;
    },
  };
}

/** A backup file's bytes, from a path or an s3://bucket/key location. */
export function readBackup(location: string, config: S3Settings): Readable {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!m) return createReadStream(location);
  return Readable.fromWeb(s3Client(config, m[1]!).file(m[2]!).stream() as never);
}

/** Deletes a backup file. */
export async function removeBackup(location: string, config: S3Settings): Promise<void> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!m) return rm(location, { force: true });
  await s3Client(config, m[1]!).delete(m[2]!);
}
