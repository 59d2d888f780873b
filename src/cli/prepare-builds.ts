/** `slipway prepare-builds`: sets up build isolation on this host (needs root; slipway.service runs it before each start). */
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { FailedError } from './errors.ts';
import { out, type Io } from './io.ts';
import { addSettingOptions, settingFlags } from './settings-options.ts';

/** Registers `prepare-builds`. */
export function registerPrepareBuilds(cli: Command, io: Io): void {
  addSettingOptions(
    cli
      .command('prepare-builds')
      .description(
        'Set up build isolation on this host (needs root): the build network, its firewall and the process-limit cgroups',
      ),
    ['dockerHost', 'buildConcurrency', 'buildCpus', 'buildPidsLimit', 'buildAllowPrivate'],
  ).action(async (opts: Record<string, unknown>) => {
    const config = loadConfig(io.env, settingFlags(opts));
    // Loaded here, not at start: no other command needs build isolation or the Docker client.
    const [{ BuildIsolation, isolationSettings }, { createDockerClient }] = await Promise.all([
      import('../build/isolation.ts'),
      import('../runtime/docker.ts'),
    ]);
    const isolation = new BuildIsolation(createDockerClient(config), isolationSettings(config));
    let done: string[];
    try {
      done = await isolation.prepare();
    } catch (err) {
      throw new FailedError(`Cannot set up build isolation: ${(err as Error).message}`);
    }
    out(io, done.map((line) => `ready  ${line}`).join('\n'));
  });
}
