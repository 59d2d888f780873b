/** One row of the settings table (src/config/settings-*.ts): env var, CLI flag, default, parser. */
import type { Config } from '../config.ts';

export interface Setting<K extends keyof Config> {
  key: K;
  env: string;
  /** Long CLI flag without dashes, or null for env-only settings. */
  flag: string | null;
  default: string;
  description: string;
  parse: (raw: string) => Config[K];
}

/** Types a row by its key. */
export const setting = <K extends keyof Config>(s: Setting<K>) => s;
