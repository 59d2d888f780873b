import { Option, type Command } from 'commander';
import { SETTINGS } from '../config.ts';

/** Adds a `--flag <value>` option for each setting in `keys` (all that have a flag by default). */
export function addSettingOptions(cmd: Command, keys?: readonly string[]): Command {
  for (const s of SETTINGS) {
    if (!s.flag || (keys && !keys.includes(s.key))) continue;
    cmd.addOption(new Option(`--${s.flag} <value>`, `${s.description} (env ${s.env}, default ${s.default || 'none'})`));
  }
  return cmd;
}

/** The setting flags given on the command line, keyed by flag name (`data-dir`). */
export function settingFlags(options: object): Record<string, string | undefined> {
  const opts = options as Record<string, unknown>;
  const out: Record<string, string | undefined> = {};
  for (const s of SETTINGS) {
    if (!s.flag) continue;
    const camel = s.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (typeof opts[camel] === 'string') out[s.flag] = opts[camel] as string;
  }
  return out;
}
