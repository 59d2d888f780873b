/** `slipway doctor`: checks this host can run Slipway, and says how to fix what it cannot. */
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import type { Check } from '../install/check.ts';
import { installedEnvironment } from '../install/facts.ts';
import { hostListeningPorts } from '../install/ports.ts';
import { DEFAULT_PATHS } from '../install/units.ts';
import { FailedError } from './errors.ts';
import { colorsFor, out, type Io } from './io.ts';
import { printJson } from './output.ts';
import { addSettingOptions, settingFlags } from './settings-options.ts';

/** Registers `doctor`. */
export function registerDoctor(cli: Command, io: Io): void {
  addSettingOptions(
    cli
      .command('doctor')
      .description(
        'Check Docker, ports, the data directory, disk space, the clock and whether the agent and edge answer',
      )
      .option('--json', 'print the checks as JSON')
      .addHelpText('after', '\nOnce installed, the settings come from the systemd units and /etc/slipway/slipway.env.'),
    ['dataDir', 'apiListen', 'httpListen', 'httpsListen', 'dockerHost'],
  ).action(async (opts: Record<string, unknown> & { json?: boolean }) => {
    const installed = installedEnvironment(DEFAULT_PATHS);
    const config = loadConfig(installed ?? io.env, settingFlags(opts));
    // Loaded here, not at every CLI start: the Docker client and the checks (node:http under them).
    const [{ createDockerClient }, { runDoctor }] = await Promise.all([
      import('../runtime/docker.ts'),
      import('../install/doctor.ts'),
    ]);
    const checks = await runDoctor({
      config,
      installed: installed !== null,
      listening: hostListeningPorts(),
      docker: createDockerClient(config),
      now: io.now,
    });
    if (opts.json) printJson(io, checks);
    else out(io, renderChecks(checks, io));
    const failed = checks.filter((c) => c.status === 'fail').length;
    if (failed > 0) throw new FailedError(`${failed} of ${checks.length} checks failed`);
  });
}

/** The checks as aligned lines, each failure or warning followed by its fix. */
export function renderChecks(checks: Check[], io: Io): string {
  const c = colorsFor(io);
  const width = Math.max(...checks.map((k) => k.name.length));
  const mark = { ok: c.green('✓'), warn: c.yellow('!'), fail: c.red('✗') };
  const lines: string[] = [];
  for (const k of checks) {
    lines.push(`${mark[k.status]} ${k.name.padEnd(width)}  ${k.detail}`);
    if (k.fix) lines.push(`  ${' '.repeat(width)}  ${c.dim(`fix: ${k.fix}`)}`);
  }
  const failed = checks.filter((k) => k.status === 'fail').length;
  const warned = checks.filter((k) => k.status === 'warn').length;
  lines.push(
    '',
    failed + warned === 0
      ? 'Everything looks right.'
      : `${failed} failed, ${warned} warning${warned === 1 ? '' : 's'}.`,
  );
  return lines.join('\n');
}
