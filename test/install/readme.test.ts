/** The README's "Install on a VPS" stays true: its commands run, and it lists exactly what install writes. */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { installPlan, uninstallPlan, type HostFacts } from '../../src/install/plan.ts';
import { apiUnit, DEFAULT_PATHS, edgeUnit } from '../../src/install/units.ts';
import { runCli } from '../cli/harness.ts';

const README = readFileSync(resolve(import.meta.dir, '../../README.md'), 'utf8');
const section = README.slice(
  README.indexOf('## Install on a VPS\n'),
  README.indexOf('\n## ', README.indexOf('## Install on a VPS\n') + 5),
);
const facts: HostFacts = {
  systemdMissing: null,
  userExists: false,
  edgeUserExists: false,
  envFileExists: false,
  unitsInstalled: false,
  executable: '/tmp/slipway',
};

describe('the README section "Install on a VPS"', () => {
  test('lists every path install creates or writes, and nothing else', () => {
    const listed = [...section.matchAll(/^- `([^`]+)`:/gm)].map((m) => m[1]);
    const planned = installPlan(facts, { baseDomain: null }, '0.1.0').flatMap((s) =>
      s.kind === 'copy' ? [s.to] : s.kind === 'mkdir' || s.kind === 'write' ? [s.path] : [],
    );
    expect(listed.sort()).toEqual(planned.filter((p) => p !== DEFAULT_PATHS.etcDir).sort());
  });

  test('describes the units as they are written', () => {
    expect(section).toContain('`slipway serve --role api`\n  on `127.0.0.1:7070`');
    expect(apiUnit(DEFAULT_PATHS, '0.1.0')).toContain('ExecStart=/usr/local/bin/slipway serve --role api\n');
    expect(apiUnit(DEFAULT_PATHS, '0.1.0')).toContain('Environment=SLIPWAY_API_LISTEN=127.0.0.1:7070\n');
    expect(section).toContain('`slipway serve --role edge` on port 80');
    expect(edgeUnit(DEFAULT_PATHS, '0.1.0')).toContain('Environment=SLIPWAY_HTTP_LISTEN=0.0.0.0:80\n');
    expect(section).toContain('`SLIPWAY_HTTPS_LISTEN=0.0.0.0:443`');
    expect(edgeUnit(DEFAULT_PATHS, '0.1.0')).toContain('Environment=SLIPWAY_HTTPS_LISTEN=0.0.0.0:443\n');
    expect(section).toContain('`systemctl daemon-reload` and `systemctl enable --now`');
    expect(
      installPlan(facts, { baseDomain: null }, '0.1.0')
        .filter((s) => s.kind === 'run' && s.argv[0] === 'systemctl')
        .map((s) => s.kind === 'run' && s.argv.slice(0, 2).join(' ')),
    ).toEqual(['systemctl daemon-reload', 'systemctl enable']);
  });

  test('its install commands run: --dry-run and --base-domain are real options', async () => {
    const block = /```sh\n(.*?)\n```/s.exec(section)![1]!;
    const installs = block
      .split('\n')
      .filter((l) => l.startsWith('/tmp/slipway install'))
      .map((l) =>
        l
          .replace(/\s+#.*$/, '')
          .split(/\s+/)
          .slice(1),
      );
    expect(installs).toEqual([
      ['install', '--dry-run'],
      ['install', '--base-domain', 'apps.example.com'],
    ]);
    const dry = await runCli([...installs[1]!, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('    SLIPWAY_BASE_DOMAIN=apps.example.com\n');
  });

  test('says what uninstall keeps and what --purge removes', () => {
    expect(section).toContain('keeps `/var/lib/slipway` and\n`/etc/slipway`');
    const kept = uninstallPlan({ ...facts, userExists: true, edgeUserExists: true }, { purge: false })
      .filter((s) => s.kind === 'keep')
      .map((s) => s.kind === 'keep' && s.path);
    expect(kept).toEqual(['/var/lib/slipway', '/etc/slipway']);
  });
});
