import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Where the master key may come from, most specific first. */
export interface MasterKeySources {
  /** SLIPWAY_MASTER_KEY: base64 of 32 bytes. */
  envKey: string | null;
  /** $CREDENTIALS_DIRECTORY, set by systemd's LoadCredential=; the file `slipway-master-key` in it. */
  credentialsDirectory: string | null;
  dataDir: string;
}

/**
 * The 32-byte key that encrypts env secrets and database passwords: from SLIPWAY_MASTER_KEY,
 * else a systemd credential, else `<data-dir>/master.key`, created (mode 0600) on first use.
 */
export function loadMasterKey(s: MasterKeySources): Buffer {
  if (s.envKey) return decode(s.envKey, 'SLIPWAY_MASTER_KEY');
  const credential = s.credentialsDirectory ? join(s.credentialsDirectory, 'slipway-master-key') : null;
  if (credential && existsSync(credential)) return decode(readFileSync(credential, 'utf8').trim(), credential);
  const file = join(s.dataDir, 'master.key');
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  }
  return decode(readFileSync(file, 'utf8').trim(), file);
}

function decode(text: string, where: string): Buffer {
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error(`The master key in ${where} is not base64 of 32 bytes`);
  return key;
}
