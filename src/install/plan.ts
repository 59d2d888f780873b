/**
 * What `slipway install` and `slipway uninstall` do, as a list of steps decided from the host's
 * facts before anything changes, so that `--dry-run` prints exactly what a real run would do.
 */
import { ROUTE_STORE_DIR } from '../edge/layout.ts';
import {
  DEFAULT_PATHS,
  EDGE_USER,
  SERVICE_USER,
  UNIT_NAMES,
  apiUnit,
  edgeStatePath,
  edgeUnit,
  envFile,
  envFilePath,
  type InstallPaths,
} from './units.ts';

/** One step of a plan. A `run` step with `skip` is printed with its reason and not run. */
export type Step =
  | { kind: 'copy'; from: string; to: string; mode: number }
  | { kind: 'mkdir'; path: string; mode: number }
  | { kind: 'write'; path: string; mode: number; content: string }
  | { kind: 'keep'; path: string; why: string }
  | { kind: 'chmod'; path: string; mode: number }
  | { kind: 'run'; argv: string[]; skip?: string }
  | { kind: 'remove'; path: string; recursive: boolean }
  | { kind: 'purge-docker'; dataDir: string };

/** Mode of the settings file: read-write for root, readable by the service's group, nothing for others. */
export const ENV_FILE_MODE = 0o640;

/** What the plans depend on, gathered by facts.ts (tests make their own). */
export interface HostFacts {
  /** Why systemctl cannot be used, or null when systemd is PID 1. */
  systemdMissing: string | null;
  userExists: boolean;
  /** Whether the edge's user (slipway-edge) exists. */
  edgeUserExists: boolean;
  envFileExists: boolean;
  unitsInstalled: boolean;
  /** The executable to install (process.execPath). */
  executable: string;
}

/** Options of `slipway install`. */
export interface InstallOptions {
  baseDomain: string | null;
  paths?: InstallPaths;
}

/** The steps of `slipway install`. */
export function installPlan(facts: HostFacts, opts: InstallOptions, version: string): Step[] {
  const paths = opts.paths ?? DEFAULT_PATHS;
  const units = [UNIT_NAMES.api, UNIT_NAMES.edge];
  const systemctl = (...args: string[]): Step => ({
    kind: 'run',
    argv: ['systemctl', ...args],
    ...(facts.systemdMissing ? { skip: facts.systemdMissing } : {}),
  });
  const steps: Step[] = [];
  if (facts.executable === paths.binary)
    steps.push({ kind: 'keep', path: paths.binary, why: 'it is the running executable' });
  else steps.push({ kind: 'copy', from: facts.executable, to: paths.binary, mode: 0o755 });
  if (!facts.userExists) steps.push(systemUser(SERVICE_USER, paths.dataDir));
  if (!facts.edgeUserExists) steps.push(systemUser(EDGE_USER, '/nonexistent'));
  steps.push(...dataDirSteps(paths), { kind: 'mkdir', path: paths.etcDir, mode: 0o755 });
  // The settings may hold secrets (SLIPWAY_MASTER_KEY, ACME credentials): root and the service's
  // group only. systemd reads the file as root; the group lets `slipway doctor` run as the service.
  const settings = envFilePath(paths);
  if (facts.envFileExists)
    steps.push(
      { kind: 'keep', path: settings, why: 'it exists; edit it to change settings' },
      { kind: 'chmod', path: settings, mode: ENV_FILE_MODE },
    );
  else steps.push({ kind: 'write', path: settings, mode: ENV_FILE_MODE, content: envFile(opts.baseDomain) });
  steps.push({ kind: 'run', argv: ['chown', `root:${SERVICE_USER}`, settings] });
  steps.push(
    { kind: 'write', path: `${paths.unitDir}/${UNIT_NAMES.api}`, mode: 0o644, content: apiUnit(paths, version) },
    { kind: 'write', path: `${paths.unitDir}/${UNIT_NAMES.edge}`, mode: 0o644, content: edgeUnit(paths, version) },
    systemctl('daemon-reload'),
    systemctl('enable', '--now', ...units),
  );
  // An upgrade: enable --now leaves running units alone, so restart them onto the new executable.
  if (facts.unitsInstalled) steps.push(systemctl('restart', ...units));
  return steps;
}

/** Creates a system user with a group of its own name, no login and no home directory made. */
function systemUser(name: string, home: string): Step {
  return {
    kind: 'run',
    argv: [
      'useradd',
      '--system',
      '--user-group',
      '--home-dir',
      home,
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      name,
    ],
  };
}

/**
 * The data directory and who may do what in it. The slipway user owns it all. The edge's user may
 * cross it (mode 0710, group slipway-edge) but not list it; read the route store (edge/, group
 * slipway-edge, setgid so that the files the API makes there get that group); and write its state
 * (edge-state/, its own, setgid with group slipway so that the API may read what the edge writes).
 * Everything else (slipway.db, master.key, admin-token, the sources) stays the slipway user's alone,
 * 0600 or 0700 by the units' UMask=0077. Each directory is made, with its mode, before it is given its
 * owner: chown keeps a directory's setgid bit.
 */
function dataDirSteps(paths: InstallPaths): Step[] {
  const [data, store, state] = [paths.dataDir, `${paths.dataDir}/${ROUTE_STORE_DIR}`, edgeStatePath(paths)];
  const chown = (recursive: boolean, owner: string, group: string, path: string): Step => ({
    kind: 'run',
    argv: ['chown', ...(recursive ? ['-R'] : []), `${owner}:${group}`, path],
  });
  return [
    { kind: 'mkdir', path: data, mode: 0o710 },
    { kind: 'mkdir', path: `${data}/tmp`, mode: 0o700 },
    { kind: 'mkdir', path: store, mode: 0o2750 },
    { kind: 'mkdir', path: state, mode: 0o2750 },
    { kind: 'mkdir', path: `${state}/tmp`, mode: 0o700 },
    chown(true, SERVICE_USER, SERVICE_USER, data),
    chown(false, SERVICE_USER, EDGE_USER, data),
    chown(true, SERVICE_USER, EDGE_USER, store),
    chown(true, EDGE_USER, SERVICE_USER, state),
  ];
}

/** Options of `slipway uninstall`. */
export interface UninstallOptions {
  purge: boolean;
  paths?: InstallPaths;
}

/** The steps of `slipway uninstall`: the data stays unless `purge`. */
export function uninstallPlan(facts: HostFacts, opts: UninstallOptions): Step[] {
  const paths = opts.paths ?? DEFAULT_PATHS;
  const skip = facts.systemdMissing ? { skip: facts.systemdMissing } : {};
  const steps: Step[] = [
    { kind: 'run', argv: ['systemctl', 'disable', '--now', UNIT_NAMES.edge, UNIT_NAMES.api], ...skip },
    { kind: 'remove', path: `${paths.unitDir}/${UNIT_NAMES.edge}`, recursive: false },
    { kind: 'remove', path: `${paths.unitDir}/${UNIT_NAMES.api}`, recursive: false },
    { kind: 'run', argv: ['systemctl', 'daemon-reload'], ...skip },
    { kind: 'remove', path: paths.binary, recursive: false },
  ];
  if (!opts.purge) {
    steps.push(
      { kind: 'keep', path: paths.dataDir, why: 'the database, sources and admin token; --purge removes it' },
      { kind: 'keep', path: paths.etcDir, why: 'the settings; --purge removes it' },
    );
    return steps;
  }
  steps.push(
    { kind: 'purge-docker', dataDir: paths.dataDir },
    { kind: 'remove', path: paths.dataDir, recursive: true },
    { kind: 'remove', path: paths.etcDir, recursive: true },
  );
  if (facts.userExists) steps.push({ kind: 'run', argv: ['userdel', SERVICE_USER] });
  if (facts.edgeUserExists) steps.push({ kind: 'run', argv: ['userdel', EDGE_USER] });
  return steps;
}

/** A step as one line (and a written file's content, indented), for --dry-run and progress. */
export function describeStep(step: Step, withContent: boolean): string {
  const mode = (m: number) => `mode ${m.toString(8).padStart(4, '0')}`;
  switch (step.kind) {
    case 'copy':
      return `copy   ${step.from} -> ${step.to} (${mode(step.mode)})`;
    case 'mkdir':
      return `mkdir  ${step.path} (${mode(step.mode)})`;
    case 'write': {
      const head = `write  ${step.path} (${mode(step.mode)})`;
      if (!withContent) return head;
      const body = step.content
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => (l ? `    ${l}` : ''));
      return [`${head}:`, ...body].join('\n');
    }
    case 'keep':
      return `keep   ${step.path} (${step.why})`;
    case 'chmod':
      return `chmod  ${step.path} (${mode(step.mode)})`;
    case 'run':
      return step.skip ? `skip   ${step.argv.join(' ')} (${step.skip})` : `run    ${step.argv.join(' ')}`;
    case 'remove':
      return `remove ${step.recursive ? `-r ${step.path}` : step.path}`;
    case 'purge-docker':
      return `purge  this agent's Docker containers, volumes, images and project networks (as recorded in ${step.dataDir}/slipway.db)`;
  }
}
