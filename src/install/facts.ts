/** The host facts the install and uninstall plans depend on, read without changing anything. */
import { existsSync, readFileSync } from 'node:fs';
import { EDGE_USER, SERVICE_USER, UNIT_NAMES, envFilePath, type InstallPaths } from './units.ts';
import type { HostFacts } from './plan.ts';

/** Why systemctl cannot be used here, or null when systemd runs as PID 1 (what sd_booted() checks). */
export function systemdMissing(): string | null {
  let pid1 = 'unknown';
  try {
    pid1 = readFileSync('/proc/1/comm', 'utf8').trim();
  } catch {
    // no /proc: reported as unknown
  }
  if (pid1 === 'systemd' && existsSync('/run/systemd/system')) return null;
  return `systemd is not running: PID 1 is ${pid1}`;
}

/** True when `name` is a user in /etc/passwd (system users live there, not in a directory service). */
export function userExists(name: string, passwd = '/etc/passwd'): boolean {
  try {
    return readFileSync(passwd, 'utf8')
      .split('\n')
      .some((line) => line.startsWith(`${name}:`));
  } catch {
    return false;
  }
}

/** True when `name` is a group in /etc/group. */
export function groupExists(name: string, group = '/etc/group'): boolean {
  return userExists(name, group);
}

/** Every user (or group) of an /etc/passwd-style file, by name, with its number (the third field). */
export function accountIds(file: string): Map<string, number> {
  const ids = new Map<string, number>();
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && id && /^\d+$/.test(id)) ids.set(name, Number(id));
    }
  } catch {
    // no such file: no accounts
  }
  return ids;
}

/** True when this process is the compiled executable, not `bun src/main.ts`. */
export function runningCompiled(): boolean {
  return Bun.main.startsWith('/$bunfs/');
}

/** Everything the plans need to know about this host. */
export function gatherFacts(paths: InstallPaths, executable: string): HostFacts {
  return {
    systemdMissing: systemdMissing(),
    userExists: userExists(SERVICE_USER),
    edgeUserExists: userExists(EDGE_USER),
    envFileExists: existsSync(envFilePath(paths)),
    unitsInstalled: existsSync(`${paths.unitDir}/${UNIT_NAMES.api}`),
    executable,
  };
}

/**
 * The environment the installed services run with: their units' Environment= lines (the API's
 * where both set one, such as TMPDIR), then the settings file (which overrides them, as systemd
 * does). Null when the units are not installed.
 */
export function installedEnvironment(paths: InstallPaths): Record<string, string> | null {
  const unit = (name: string) => read(`${paths.unitDir}/${name}`);
  const api = unit(UNIT_NAMES.api);
  if (api === null) return null;
  const env: Record<string, string> = {};
  for (const text of [unit(UNIT_NAMES.edge) ?? '', api]) {
    for (const m of text.matchAll(/^Environment=([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm)) env[m[1]!] = m[2]!;
  }
  for (const m of (read(envFilePath(paths)) ?? '').matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm))
    env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  return env;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
