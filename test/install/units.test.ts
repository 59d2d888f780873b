import { describe, expect, test } from 'bun:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { installedEnvironment } from '../../src/install/facts.ts';
import { DEFAULT_PATHS, apiUnit, edgeUnit, envFile } from '../../src/install/units.ts';

const api = apiUnit(DEFAULT_PATHS, '0.1.0');
const edge = edgeUnit(DEFAULT_PATHS, '0.1.0');
const lines = (unit: string) => unit.split('\n');

/** Writes both units to a directory, with ExecStart pointing at an executable that exists here. */
function unitDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-units-'));
  const paths = { ...DEFAULT_PATHS, binary: process.execPath };
  writeFileSync(join(dir, 'slipway.service'), apiUnit(paths, '0.1.0'));
  writeFileSync(join(dir, 'slipway-edge.service'), edgeUnit(paths, '0.1.0'));
  return dir;
}

function analyze(args: string[], cwd: string): { code: number | null; out: string } {
  const which = Bun.spawnSync(['sh', '-c', 'command -v systemd-analyze']);
  if (which.exitCode !== 0)
    throw new Error('systemd-analyze is missing: run scripts/ensure-systemd-analyze.sh (Debian package systemd)');
  const r = Bun.spawnSync(['systemd-analyze', ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYSTEMD_COLORS: '0' },
  });
  return { code: r.exitCode, out: `${r.stdout.toString()}${r.stderr.toString()}` };
}

describe('the systemd units', () => {
  test('pass systemd-analyze verify without a single warning', () => {
    // verify exits 0 on unknown keys and bad values, only printing them: the output must be empty too.
    expect(analyze(['verify', './slipway.service', './slipway-edge.service'], unitDir())).toEqual({ code: 0, out: '' });
  });

  test('rate as well sandboxed by systemd-analyze security', () => {
    const dir = unitDir();
    for (const unit of ['slipway.service', 'slipway-edge.service']) {
      const r = analyze(['security', '--offline=yes', `./${unit}`], dir);
      const level = /Overall exposure level for .+: (\d+\.\d+) (\w+)/.exec(r.out);
      expect({ unit, level: level && Number(level[1]) <= 2.0, rating: level?.[2] }).toEqual({
        unit,
        level: true,
        rating: 'OK',
      });
    }
  });

  test('run the API/worker and the edge as two processes of the installed executable', () => {
    expect(lines(api)).toContain('ExecStart=/usr/local/bin/slipway serve --role api');
    // The one privileged step: build isolation, set up as root before the agent starts unprivileged.
    expect(lines(api)).toContain('ExecStartPre=+/usr/local/bin/slipway prepare-builds');
    expect(edge).not.toContain('ExecStartPre');
    expect(lines(edge)).toContain('ExecStart=/usr/local/bin/slipway serve --role edge');
  });

  test('share the hardening: read-only system, private /tmp, restart on failure', () => {
    for (const unit of [api, edge]) {
      for (const line of [
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
        'ProtectHome=yes',
        'PrivateTmp=yes',
        'UMask=0077',
        'Restart=on-failure',
        'Environment=SLIPWAY_DATA_DIR=/var/lib/slipway',
        'EnvironmentFile=-/etc/slipway/slipway.env',
      ]) {
        expect(lines(unit)).toContain(line);
      }
      expect(unit).not.toContain('MemoryDenyWriteExecute');
    }
  });

  test('run the API as slipway, writing the data directory, and the edge as slipway-edge, writing only its state', () => {
    const setting = (unit: string, key: string) => lines(unit).filter((l) => l.startsWith(`${key}=`));
    expect(['User', 'Group', 'ReadWritePaths', 'Environment'].map((k) => setting(api, k))).toEqual([
      ['User=slipway'],
      ['Group=slipway'],
      ['ReadWritePaths=/var/lib/slipway'],
      [
        'Environment=SLIPWAY_DATA_DIR=/var/lib/slipway',
        'Environment=TMPDIR=/var/lib/slipway/tmp',
        'Environment=SLIPWAY_API_LISTEN=127.0.0.1:7070',
      ],
    ]);
    expect(['User', 'Group', 'ReadWritePaths', 'Environment'].map((k) => setting(edge, k))).toEqual([
      ['User=slipway-edge'],
      ['Group=slipway-edge'],
      ['ReadWritePaths=/var/lib/slipway/edge-state'],
      [
        'Environment=SLIPWAY_DATA_DIR=/var/lib/slipway',
        'Environment=TMPDIR=/var/lib/slipway/edge-state/tmp',
        'Environment=SLIPWAY_HTTP_LISTEN=0.0.0.0:80',
        'Environment=SLIPWAY_HTTPS_LISTEN=0.0.0.0:443',
      ],
    ]);
  });

  test('give the edge CAP_NET_BIND_SERVICE and nothing else; the API no capability but the docker group', () => {
    expect(lines(edge)).toEqual(
      expect.arrayContaining([
        'AmbientCapabilities=CAP_NET_BIND_SERVICE',
        'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
      ]),
    );
    expect(edge).not.toContain('SupplementaryGroups');
    expect(lines(api)).toEqual(
      expect.arrayContaining(['CapabilityBoundingSet=', 'AmbientCapabilities=', 'SupplementaryGroups=docker']),
    );
  });

  test('configure the edge on ports 80 and 443 and the API on loopback, through settings Slipway accepts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-installed-'));
    const paths = { ...DEFAULT_PATHS, unitDir: dir, etcDir: dir };
    writeFileSync(join(dir, 'slipway.service'), api);
    writeFileSync(join(dir, 'slipway-edge.service'), edge);
    writeFileSync(join(dir, 'slipway.env'), envFile('apps.example.com'));
    const env = installedEnvironment(paths)!;
    expect(env).toEqual({
      SLIPWAY_DATA_DIR: '/var/lib/slipway',
      TMPDIR: '/var/lib/slipway/tmp',
      SLIPWAY_API_LISTEN: '127.0.0.1:7070',
      SLIPWAY_HTTP_LISTEN: '0.0.0.0:80',
      SLIPWAY_HTTPS_LISTEN: '0.0.0.0:443',
      SLIPWAY_BASE_DOMAIN: 'apps.example.com',
    });
    const config = loadConfig(env);
    expect([config.apiListen, config.httpListen, config.httpsListen, config.baseDomain]).toEqual([
      { hostname: '127.0.0.1', port: 7070 },
      { hostname: '0.0.0.0', port: 80 },
      { hostname: '0.0.0.0', port: 443 },
      'apps.example.com',
    ]);
  });

  test('the settings file starts with the base domain, or a commented example', () => {
    expect(envFile(null).split('\n').at(-2)).toBe('#SLIPWAY_BASE_DOMAIN=apps.example.com');
    expect(envFile('apps.example.com').split('\n').at(-2)).toBe('SLIPWAY_BASE_DOMAIN=apps.example.com');
  });
});
