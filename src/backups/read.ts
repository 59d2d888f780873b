/**
 * Reading a backup back: decrypt, unpack and check every part against the manifest (size and
 * SHA-256) while writing it into a staging directory laid out as a data directory. Nothing outside
 * `staging` is touched, and any mismatch fails with BackupDamagedError.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tarStream } from '../lazy-libraries.ts';
import { BackupDamagedError, DecryptStream, type KeySource } from './crypto.ts';
import { type BackupManifest, PART_PATH, restoredPath } from './manifest.ts';

const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** Unpacks a backup into `staging`; `wanted` picks the parts to write (the others are checked, then dropped). */
export async function unpackBackup(
  source: Readable,
  key: KeySource,
  staging: string,
  wanted: (part: string) => boolean = () => true,
): Promise<BackupManifest> {
  const decrypt = new DecryptStream(key);
  const entries = tarStream().extract();
  const feeding = pipeline(source, decrypt, entries).catch((err) => {
    entries.destroy(err);
    throw err;
  });
  let manifest: BackupManifest | null = null;
  const seen = new Set<string>();
  try {
    for await (const entry of entries) {
      const name = entry.header.name;
      if (!manifest) {
        if (name !== 'manifest.json') throw new BackupDamagedError('The backup is damaged: its manifest is missing');
        manifest = await readManifest(entry as unknown as Readable);
        continue;
      }
      const part = manifest.parts.find((p) => p.path === name);
      if (!part || !PART_PATH.test(name) || seen.has(name))
        throw new BackupDamagedError(`The backup is damaged: "${name}" is not a part its manifest lists`);
      seen.add(name);
      const target = join(staging, restoredPath(name));
      const got = await hashTo(entry as unknown as Readable, wanted(name) ? target : null);
      if (got.bytes !== part.bytes || got.sha256 !== part.sha256)
        throw new BackupDamagedError(`The backup is damaged: "${name}" does not match its checksum`);
    }
    await feeding;
  } catch (err) {
    await feeding.catch(() => {});
    if (err instanceof BackupDamagedError) throw err;
    throw new BackupDamagedError(`The backup cannot be read: ${(err as Error).message}`);
  }
  if (!manifest) throw new BackupDamagedError('The backup is damaged: its manifest is missing');
  const missing = manifest.parts.filter((p) => !seen.has(p.path));
  if (missing.length > 0)
    throw new BackupDamagedError(`The backup is damaged: parts are missing (${missing.map((p) => p.path).join(', ')})`);
  return manifest;
}

async function readManifest(entry: Readable): Promise<BackupManifest> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of entry) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_MANIFEST_BYTES) throw new BackupDamagedError('The backup is damaged: its manifest is too large');
    chunks.push(chunk as Buffer);
  }
  try {
    const manifest = JSON.parse(Buffer.concat(chunks).toString('utf8')) as BackupManifest;
    if (manifest.format !== 1 || !Array.isArray(manifest.parts) || !Array.isArray(manifest.projects)) throw new Error();
    return manifest;
  } catch {
    throw new BackupDamagedError('The backup is damaged: its manifest is not readable');
  }
}

async function hashTo(entry: Readable, path: string | null): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, path ? chunk : undefined);
    },
  });
  if (path) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    await pipeline(entry, meter, createWriteStream(path, { mode: 0o600 }));
  } else {
    await pipeline(entry, meter, async (s) => {
      for await (const _ of s);
    });
  }
  return { bytes, sha256: hash.digest('hex') };
}
