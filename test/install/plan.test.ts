import { describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { VERSION } from '../../src/version.ts';
import { describeStep, installPlan, uninstallPlan, type HostFacts } from '../../src/install/plan.ts';
import { gatherFacts, runningCompiled, groupExists } from '../../src/install/facts.ts';
import { DEFAULT_PATHS, apiUnit, edgeUnit } from '../../src/install/units.ts';
import { runCli } from '../cli/harness.ts';

const fresh: HostFacts = {
  systemdMissing: null,
  userExists: false,
  edgeUserExists: false,
  envFileExists: false,
  unitsInstalled: false,
  executable: '/home/ada/slipway',
};
const oneLine = (steps: ReturnType<typeof installPlan>) => steps.map((s) => describeStep(s, false));
/** The data directory's steps: the edge's user may cross it, read edge/ and write edge-state/, nothing else. */
const DATA_DIR = [
  'mkdir  /var/lib/slipway (mode 0710)',
  'mkdir  /var/lib/slipway/tmp (mode 0700)',
  'mkdir  /var/lib/slipway/edge (mode 2750)',
  'mkdir  /var/lib/slipway/edge-state (mode 2750)',
  'mkdir  /var/lib/slipway/edge-state/tmp (mode 0700)',
  'run    chown -R slipway:slipway /var/lib/slipway',
  'run    chown slipway:slipway-edge /var/lib/slipway',
  'run    chown -R slipway:slipway-edge /var/lib/slipway/edge',
  'run    chown -R slipway-edge:slipway /var/lib/slipway/edge-state',
];

describe('the install plan', () => {
  test('on a fresh host with systemd', () => {
    expect(oneLine(installPlan(fresh, { baseDomain: null }, '0.1.0'))).toEqual([
      'copy   /home/ada/slipway -> /usr/local/bin/slipway (mode 0755)',
      'run    useradd --system --user-group --home-dir /var/lib/slipway --no-create-home --shell /usr/sbin/nologin slipway',
      'run    useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin slipway-edge',
      ...DATA_DIR,
      'mkdir  /etc/slipway (mode 0755)',
      'write  /etc/slipway/slipway.env (mode 0640)',
      'run    chown root:slipway /etc/slipway/slipway.env',
      'write  /etc/systemd/system/slipway.service (mode 0644)',
      'write  /etc/systemd/system/slipway-edge.service (mode 0644)',
      'run    systemctl daemon-reload',
      'run    systemctl enable --now slipway.service slipway-edge.service',
    ]);
  });

  test('an upgrade from the installed executable keeps it, the user and the settings, and restarts the units', () => {
    const upgrade = {
      ...fresh,
      userExists: true,
      edgeUserExists: true,
      envFileExists: true,
      unitsInstalled: true,
      executable: '/usr/local/bin/slipway',
    };
    expect(oneLine(installPlan(upgrade, { baseDomain: 'apps.example.com' }, '0.2.0'))).toEqual([
      'keep   /usr/local/bin/slipway (it is the running executable)',
      ...DATA_DIR,
      'mkdir  /etc/slipway (mode 0755)',
      'keep   /etc/slipway/slipway.env (it exists; edit it to change settings)',
      // Installed by an earlier version with mode 0644: no longer world-readable.
      'chmod  /etc/slipway/slipway.env (mode 0640)',
      'run    chown root:slipway /etc/slipway/slipway.env',
      'write  /etc/systemd/system/slipway.service (mode 0644)',
      'write  /etc/systemd/system/slipway-edge.service (mode 0644)',
      'run    systemctl daemon-reload',
      'run    systemctl enable --now slipway.service slipway-edge.service',
      'run    systemctl restart slipway.service slipway-edge.service',
    ]);
  });

  test("an upgrade from a Slipway whose edge ran as slipway adds the edge's user and its directories", () => {
    const upgrade = { ...fresh, userExists: true, envFileExists: true, unitsInstalled: true };
    expect(oneLine(installPlan(upgrade, { baseDomain: null }, '0.2.0')).slice(1, 11)).toEqual([
      'run    useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin slipway-edge',
      ...DATA_DIR,
    ]);
  });

  test('without systemd as PID 1 the systemctl steps are reported and skipped', () => {
    const steps = oneLine(
      installPlan({ ...fresh, systemdMissing: 'systemd is not running: PID 1 is sh' }, { baseDomain: null }, '0.1.0'),
    );
    expect(steps.slice(-2)).toEqual([
      'skip   systemctl daemon-reload (systemd is not running: PID 1 is sh)',
      'skip   systemctl enable --now slipway.service slipway-edge.service (systemd is not running: PID 1 is sh)',
    ]);
  });
});

describe('the uninstall plan', () => {
  const installed = { ...fresh, userExists: true, edgeUserExists: true, envFileExists: true, unitsInstalled: true };

  test('keeps the data and the settings', () => {
    expect(oneLine(uninstallPlan(installed, { purge: false }))).toEqual([
      'run    systemctl disable --now slipway-edge.service slipway.service',
      'remove /etc/systemd/system/slipway-edge.service',
      'remove /etc/systemd/system/slipway.service',
      'run    systemctl daemon-reload',
      'remove /usr/local/bin/slipway',
      'keep   /var/lib/slipway (the database, sources and admin token; --purge removes it)',
      'keep   /etc/slipway (the settings; --purge removes it)',
    ]);
  });

  test("with --purge removes the data, the settings, both users and this agent's Docker objects", () => {
    expect(oneLine(uninstallPlan(installed, { purge: true })).slice(5)).toEqual([
      "purge  this agent's Docker containers, volumes, images and project networks (as recorded in /var/lib/slipway/slipway.db)",
      'remove -r /var/lib/slipway',
      'remove -r /etc/slipway',
      'run    userdel slipway',
      'run    userdel slipway-edge',
    ]);
  });
});

describe('install --dry-run', () => {
  test('prints every step, with the full content of each file it would write, indented', () => {
    const steps = installPlan(fresh, { baseDomain: 'apps.example.com' }, '0.1.0');
    const text = describeStep(steps.find((s) => s.kind === 'write')!, true);
    expect(text).toBe(
      [
        'write  /etc/slipway/slipway.env (mode 0640):',
        '    # Settings of slipway.service and slipway-edge.service, one VAR=value per line. They override the',
        "    # units' Environment= lines; every setting is in the README's configuration table.",
        '    # Apply a change with: systemctl restart slipway slipway-edge',
        '    SLIPWAY_BASE_DOMAIN=apps.example.com',
      ].join('\n'),
    );
  });

  test('slipway install --dry-run prints the whole plan and changes nothing', async () => {
    const touched = [
      '/usr/local/bin/slipway',
      '/etc/systemd/system/slipway.service',
      '/etc/slipway',
      '/var/lib/slipway',
    ];
    const before = touched.map((p) => existsSync(p));
    const r = await runCli(['install', '--dry-run', '--base-domain', 'apps.example.com']);
    expect(touched.map((p) => existsSync(p))).toEqual(before);
    const facts = gatherFacts(DEFAULT_PATHS, '/opt/slipway/slipway');
    const indent = (unit: string) =>
      unit
        .trimEnd()
        .split('\n')
        .map((l) => (l ? `    ${l}` : ''));
    const notes = [
      ...(process.getuid!() === 0 ? [] : ['note   a real run would stop: it must run as root: sudo slipway install']),
      ...(runningCompiled()
        ? []
        : [
            "note   a real run would stop: /opt/slipway/slipway is not Slipway's executable (this is `bun src/main.ts`): build it with `bun scripts/build.ts`, then run `sudo ./dist/slipway install`",
          ]),
      ...(groupExists('docker')
        ? []
        : [
            'note   a real run would stop: the docker group does not exist: install Docker first (apt-get install docker.io)',
          ]),
    ];
    const systemctl = (args: string) =>
      facts.systemdMissing ? `skip   systemctl ${args} (${facts.systemdMissing})` : `run    systemctl ${args}`;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'Dry run of `slipway install`: nothing is changed.',
        ...notes,
        'copy   /opt/slipway/slipway -> /usr/local/bin/slipway (mode 0755)',
        ...(facts.userExists
          ? []
          : [
              'run    useradd --system --user-group --home-dir /var/lib/slipway --no-create-home --shell /usr/sbin/nologin slipway',
            ]),
        ...(facts.edgeUserExists
          ? []
          : [
              'run    useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin slipway-edge',
            ]),
        ...DATA_DIR,
        'mkdir  /etc/slipway (mode 0755)',
        ...(facts.envFileExists
          ? [
              'keep   /etc/slipway/slipway.env (it exists; edit it to change settings)',
              'chmod  /etc/slipway/slipway.env (mode 0640)',
            ]
          : [
              'write  /etc/slipway/slipway.env (mode 0640):',
              '    # Settings of slipway.service and slipway-edge.service, one VAR=value per line. They override the',
              "    # units' Environment= lines; every setting is in the README's configuration table.",
              '    # Apply a change with: systemctl restart slipway slipway-edge',
              '    SLIPWAY_BASE_DOMAIN=apps.example.com',
            ]),
        'run    chown root:slipway /etc/slipway/slipway.env',
        'write  /etc/systemd/system/slipway.service (mode 0644):',
        ...indent(apiUnit(DEFAULT_PATHS, VERSION)),
        'write  /etc/systemd/system/slipway-edge.service (mode 0644):',
        ...indent(edgeUnit(DEFAULT_PATHS, VERSION)),
        systemctl('daemon-reload'),
        systemctl('enable --now slipway.service slipway-edge.service'),
        ...(facts.unitsInstalled ? [systemctl('restart slipway.service slipway-edge.service')] : []),
        '',
      ].join('\n'),
    );
  });
});
