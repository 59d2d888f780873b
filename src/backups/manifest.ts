/** What a backup holds, and the names its parts may have. */

/** One part of a backup: its path inside the backup, size and SHA-256. */
export interface BackupPart {
  path: string;
  bytes: number;
  sha256: string;
}

/** One project as the backup saw it. */
export interface BackedUpProject {
  name: string;
  database: boolean;
  volumes: string[];
  /** The live deployment, rebuilt from its stored source on restore; null when nothing was live. */
  live_deployment: string | null;
}

/** The manifest: the first entry of every backup, and its row's copy. */
export interface BackupManifest {
  format: 1;
  id: string;
  created_at: string;
  slipway_version: string;
  /** The slipway.db schema version (migrations applied) of the state inside. */
  schema_version: number;
  kdf: 'master-key' | 'passphrase';
  projects: BackedUpProject[];
  parts: BackupPart[];
}

const NAME = '[a-z][a-z0-9-]{0,62}';

/** Every path a part may have; anything else in a backup is refused. */
export const PART_PATH = new RegExp(
  `^(state/slipway\\.db|state/admin-token|databases/${NAME}\\.dump|volumes/${NAME}/${NAME}\\.tar|` +
    `sources/${NAME}/dep_[0-9a-z]{26}\\.(tar\\.gz|manifest\\.json))$`,
);

/** Where a part goes in a restored data directory (database dumps and volume tars wait in `restore-parts/`). */
export function restoredPath(part: string): string {
  if (part === 'state/slipway.db') return 'slipway.db';
  if (part === 'state/admin-token') return 'admin-token';
  if (part.startsWith('sources/')) return part;
  return `restore-parts/${part}`;
}
