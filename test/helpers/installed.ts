/**
 * A data directory laid out by the real install plan under a temporary root, with its owners set
 * for real: the plan's `chown` steps run with the test uids in place of the slipway and
 * slipway-edge users (which a test host does not have). Needs root, like setpriv.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyPlan, type Runner } from '../../src/install/apply.ts';
import { installPlan } from '../../src/install/plan.ts';
import { EDGE_USER, SERVICE_USER, type InstallPaths } from '../../src/install/units.ts';
import { TEST_UIDS } from './users.ts';

/** The test uid standing in for each user the install makes (each has a group of the same name and number). */
export const INSTALLED_IDS: Record<string, number> = {
  root: 0,
  [SERVICE_USER]: TEST_UIDS.api,
  [EDGE_USER]: TEST_UIDS.edge,
};

/** Runs the plan's chown steps with test uids, records every command, and runs nothing else. */
export function chownRunner(commands: string[][] = []): Runner {
  return (argv) => {
    commands.push(argv);
    if (argv[0] !== 'chown') return { status: 0, output: '' };
    const ids = argv.map((a) =>
      a.replace(
        /^([a-z-]+):([a-z-]+)$/,
        (_, user: string, group: string) => `${INSTALLED_IDS[user]}:${INSTALLED_IDS[group]}`,
      ),
    );
    const r = spawnSync(ids[0]!, ids.slice(1), { encoding: 'utf8' });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  };
}

/** Applies the install plan to a fresh temporary root (readable by the test uids) and returns its paths. */
export async function installedLayout(): Promise<{ root: string; paths: InstallPaths; commands: string[][] }> {
  const root = mkdtempSync(join(tmpdir(), 'slipway-installed-'));
  chmodSync(root, 0o755);
  const executable = join(root, 'build', 'slipway');
  mkdirSync(join(root, 'build'));
  // As on a real host; the plan's recursive mkdir would give them the data directory's 0710.
  mkdirSync(join(root, 'var/lib'), { recursive: true, mode: 0o755 });
  writeFileSync(executable, '#!/bin/sh\n');
  const paths = {
    binary: join(root, 'usr/local/bin/slipway'),
    dataDir: join(root, 'var/lib/slipway'),
    unitDir: join(root, 'etc/systemd/system'),
    etcDir: join(root, 'etc/slipway'),
  };
  const facts = {
    systemdMissing: 'systemd is not running: PID 1 is sh',
    userExists: false,
    edgeUserExists: false,
    envFileExists: false,
    unitsInstalled: false,
    executable,
  };
  const commands: string[][] = [];
  await applyPlan(installPlan(facts, { baseDomain: null, paths }, '0.1.0'), {
    report: () => {},
    run: chownRunner(commands),
    docker: () => {
      throw new Error('Docker is not needed to install');
    },
    agent: () => null,
  });
  return { root, paths, commands };
}
