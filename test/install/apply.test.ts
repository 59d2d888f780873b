import { describe, expect, test } from 'bun:test';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { applyPlan, type ApplyDeps } from '../../src/install/apply.ts';
import { describeStep, installPlan, uninstallPlan, type HostFacts } from '../../src/install/plan.ts';
import { apiUnit, envFile, type InstallPaths } from '../../src/install/units.ts';
import { INSTALLED_IDS, installedLayout } from '../helpers/installed.ts';
import { asUser, canSwitchUsers } from '../helpers/users.ts';

/** Install paths inside a fresh temporary directory, and an "executable" to install. */
function sandbox(): { paths: InstallPaths; executable: string } {
  const root = mkdtempSync(join(tmpdir(), 'slipway-install-'));
  const executable = join(root, 'build', 'slipway');
  mkdirSync(join(root, 'build'));
  writeFileSync(executable, '#!/bin/sh\necho slipway\n');
  return {
    paths: {
      binary: join(root, 'usr/local/bin/slipway'),
      dataDir: join(root, 'var/lib/slipway'),
      unitDir: join(root, 'etc/systemd/system'),
      etcDir: join(root, 'etc/slipway'),
    },
    executable,
  };
}

/** Apply deps whose commands are recorded, not run. */
function recorder(status = 0): ApplyDeps & { commands: string[][]; reported: string[] } {
  const commands: string[][] = [];
  const reported: string[] = [];
  return {
    commands,
    reported,
    report: (line) => reported.push(line),
    run: (argv) => {
      commands.push(argv);
      return { status, output: status === 0 ? '' : 'useradd: boom' };
    },
    docker: () => {
      throw new Error('Docker is not needed here');
    },
    agent: () => null,
  };
}

const facts = (executable: string, extra: Partial<HostFacts> = {}): HostFacts => ({
  systemdMissing: 'systemd is not running: PID 1 is sh',
  userExists: false,
  edgeUserExists: false,
  envFileExists: false,
  unitsInstalled: false,
  executable,
  ...extra,
});

describe('applying the install plan', () => {
  test('writes the executable, directories, settings and units with their modes, and runs the commands', async () => {
    const { paths, executable } = sandbox();
    const steps = installPlan(facts(executable), { baseDomain: 'apps.example.com', paths }, '0.1.0');
    const deps = recorder();
    await applyPlan(steps, deps);
    const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8);
    expect({
      binary: mode(paths.binary),
      data: mode(paths.dataDir),
      tmp: mode(`${paths.dataDir}/tmp`),
      routeStore: mode(`${paths.dataDir}/edge`),
      edgeState: mode(`${paths.dataDir}/edge-state`),
      edgeTmp: mode(`${paths.dataDir}/edge-state/tmp`),
      settings: mode(`${paths.etcDir}/slipway.env`),
      unit: mode(`${paths.unitDir}/slipway.service`),
    }).toEqual({
      binary: '755',
      data: '710',
      tmp: '700',
      routeStore: '2750',
      edgeState: '2750',
      edgeTmp: '700',
      settings: '640',
      unit: '644',
    });
    expect(readFileSync(paths.binary, 'utf8')).toBe('#!/bin/sh\necho slipway\n');
    expect(readFileSync(`${paths.etcDir}/slipway.env`, 'utf8')).toBe(envFile('apps.example.com'));
    expect(readFileSync(`${paths.unitDir}/slipway.service`, 'utf8')).toBe(apiUnit(paths, '0.1.0'));
    expect(deps.commands.filter((c) => c[0] !== 'chown').map((c) => c.at(-1))).toEqual(['slipway', 'slipway-edge']);
    expect(deps.commands.filter((c) => c[0] === 'chown').map((c) => c.slice(1).join(' '))).toEqual([
      `-R slipway:slipway ${paths.dataDir}`,
      `slipway:slipway-edge ${paths.dataDir}`,
      `-R slipway:slipway-edge ${paths.dataDir}/edge`,
      `-R slipway-edge:slipway ${paths.dataDir}/edge-state`,
      `root:slipway ${paths.etcDir}/slipway.env`,
    ]);
    expect(deps.reported).toEqual(steps.map((s) => describeStep(s, false)));
  });

  test('a reinstall keeps the settings the operator edited', async () => {
    const { paths, executable } = sandbox();
    await applyPlan(installPlan(facts(executable), { baseDomain: null, paths }, '0.1.0'), recorder());
    writeFileSync(`${paths.etcDir}/slipway.env`, 'SLIPWAY_BASE_DOMAIN=mine.example.com\n');
    await applyPlan(
      installPlan(
        facts(executable, { envFileExists: true, userExists: true, edgeUserExists: true, unitsInstalled: true }),
        { baseDomain: null, paths },
        '0.2.0',
      ),
      recorder(),
    );
    expect(readFileSync(`${paths.etcDir}/slipway.env`, 'utf8')).toBe('SLIPWAY_BASE_DOMAIN=mine.example.com\n');
    expect(readFileSync(`${paths.unitDir}/slipway.service`, 'utf8')).toContain('(Slipway 0.2.0)');
  });

  test('the settings file is not readable by others, whatever the umask, also when kept from an older install', async () => {
    const { paths, executable } = sandbox();
    const settings = `${paths.etcDir}/slipway.env`;
    const mode = () => statSync(settings).mode & 0o777;
    const umask = process.umask(0o000);
    try {
      await applyPlan(installPlan(facts(executable), { baseDomain: null, paths }, '0.1.0'), recorder());
    } finally {
      process.umask(umask);
    }
    expect(mode()).toBe(0o640);
    // An install by an earlier version left it world-readable, with the operator's secrets in it.
    chmodSync(settings, 0o644);
    writeFileSync(settings, 'SLIPWAY_MASTER_KEY=c2VjcmV0\n');
    const deps = recorder();
    await applyPlan(
      installPlan(facts(executable, { envFileExists: true, userExists: true }), { baseDomain: null, paths }, '0.2.0'),
      deps,
    );
    expect(mode()).toBe(0o640);
    expect(mode() & 0o007).toBe(0);
    expect(readFileSync(settings, 'utf8')).toBe('SLIPWAY_MASTER_KEY=c2VjcmV0\n');
    expect(deps.commands).toContainEqual(['chown', 'root:slipway', settings]);
  });

  test('a failing command stops the install and says which and why', async () => {
    const { paths, executable } = sandbox();
    const promise = applyPlan(installPlan(facts(executable), { baseDomain: null, paths }, '0.1.0'), recorder(9));
    await expect(promise).rejects.toThrow(
      `\`useradd --system --user-group --home-dir ${paths.dataDir} --no-create-home --shell /usr/sbin/nologin slipway\` failed (exit 9): useradd: boom`,
    );
    expect(existsSync(`${paths.unitDir}/slipway.service`)).toBe(false);
  });
});

describe('applying the uninstall plan', () => {
  async function installed() {
    const box = sandbox();
    await applyPlan(installPlan(facts(box.executable), { baseDomain: null, paths: box.paths }, '0.1.0'), recorder());
    writeFileSync(`${box.paths.dataDir}/slipway.db`, 'data');
    return box;
  }

  test('removes the units and the executable, and keeps the data and the settings', async () => {
    const { paths, executable } = await installed();
    await applyPlan(
      uninstallPlan(facts(executable, { userExists: true, edgeUserExists: true }), { purge: false, paths }),
      recorder(),
    );
    expect(
      [paths.binary, `${paths.unitDir}/slipway.service`, `${paths.unitDir}/slipway-edge.service`].map(existsSync),
    ).toEqual([false, false, false]);
    expect(readFileSync(`${paths.dataDir}/slipway.db`, 'utf8')).toBe('data');
    expect(existsSync(`${paths.etcDir}/slipway.env`)).toBe(true);
  });

  test("with --purge removes the data too, and only this agent's Docker objects", async () => {
    const { paths, executable } = await installed();
    const calls: string[] = [];
    const docker = {
      listContainers: async (o: { filters: unknown }) => {
        calls.push(`containers ${JSON.stringify(o.filters)}`);
        return [{ Id: 'c1' }];
      },
      getContainer: (id: string) => ({ remove: async () => void calls.push(`rm container ${id}`) }),
      listVolumes: async () => ({ Volumes: [] }),
      listImages: async (o: { filters: unknown }) => {
        calls.push(`images ${JSON.stringify(o.filters)}`);
        return [];
      },
      listNetworks: async (o: { filters: unknown }) => {
        calls.push(`networks ${JSON.stringify(o.filters)}`);
        return [{ Id: 'n1' }];
      },
      getNetwork: (id: string) => ({ remove: async () => void calls.push(`rm network ${id}`) }),
    } as unknown as Docker;
    const deps = { ...recorder(), docker: () => docker, agent: () => ({ id: 'agt_1', projects: ['web'] }) };
    await applyPlan(
      uninstallPlan(facts(executable, { userExists: true, edgeUserExists: true }), { purge: true, paths }),
      deps,
    );
    expect([paths.dataDir, paths.etcDir].map(existsSync)).toEqual([false, false]);
    expect(calls).toEqual([
      'containers {"label":["slipway.agent=agt_1"]}',
      'rm container c1',
      'images {"label":["slipway.agent=agt_1"]}',
      'networks {"label":["slipway.managed=true","slipway.project=web"]}',
      'rm network n1',
    ]);
    expect(deps.commands).toEqual([
      ['userdel', 'slipway'],
      ['userdel', 'slipway-edge'],
    ]);
  });
});

describe.skipIf(!canSwitchUsers())('the data directory as installed, with real owners', () => {
  /** Runs a fixture as `uid` (umask 0077, as the units set it) and returns its output. */
  function runAs(uid: number, fixture: string, ...args: string[]): string {
    const r = Bun.spawnSync([...asUser(uid), process.execPath, `${import.meta.dir}/fixtures/${fixture}`, ...args]);
    if (r.exitCode !== 0) throw new Error(`${fixture} as ${uid} exited ${r.exitCode}: ${r.stderr.toString()}`);
    return r.stdout.toString();
  }

  test("lets the edge's user read the route store and write its state, and nothing else", async () => {
    const { root, paths } = await installedLayout();
    try {
      const version = Number(runAs(INSTALLED_IDS.slipway!, 'api-writes.ts', paths.dataDir));
      expect(version).toBe(1);
      const edge = JSON.parse(runAs(INSTALLED_IDS['slipway-edge']!, 'edge-access.ts', paths.dataDir));
      expect(edge).toEqual({
        readRoutes: [{ project: 'web', hostnames: [], targets: ['127.0.0.1:4001'] }],
        writeState: 'allowed',
        readDatabase: 'EACCES',
        readMasterKey: 'EACCES',
        readAdminToken: 'EACCES',
        listDataDir: 'EACCES',
        writeRoutes: 'EACCES',
        createInDataDir: 'EACCES',
        createInRouteStoreDir: 'EACCES',
      });
      // The API's user reads what the edge reported (and the store it is about).
      const state = Bun.spawnSync([...asUser(INSTALLED_IDS.slipway!), 'cat', `${paths.dataDir}/edge-state/state.json`]);
      expect(state.exitCode).toBe(0);
      expect(JSON.parse(state.stdout.toString()).applied.version).toBe(version);
      const owners = (p: string) => {
        const s = statSync(`${paths.dataDir}/${p}`);
        return `${s.uid}:${s.gid} ${(s.mode & 0o7777).toString(8)}`;
      };
      const [api, edgeUser] = [INSTALLED_IDS.slipway, INSTALLED_IDS['slipway-edge']];
      expect(
        ['slipway.db', 'master.key', 'admin-token', 'edge/routes.db', 'edge-state/state.json'].map(owners),
      ).toEqual([
        `${api}:${api} 600`,
        `${api}:${api} 600`,
        `${api}:${api} 600`,
        `${api}:${edgeUser} 640`,
        `${edgeUser}:${api} 640`,
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
