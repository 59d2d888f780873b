/** `slipway install` and `slipway uninstall`: the systemd setup on a VPS, with --dry-run. */
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { VERSION } from '../version.ts';
import { applyPlan, readAgent, spawnRunner, StepError } from '../install/apply.ts';
import { gatherFacts, groupExists, runningCompiled } from '../install/facts.ts';
import { describeStep, installPlan, uninstallPlan, type Step } from '../install/plan.ts';
import { DEFAULT_PATHS, UNIT_NAMES } from '../install/units.ts';
import { FailedError, UsageError } from './errors.ts';
import { confirmByName, out, type Io } from './io.ts';

/** Registers `install` and `uninstall`. */
export function registerInstall(cli: Command, io: Io): void {
  cli
    .command('install')
    .description('Install this executable as systemd services: the API/worker and the edge on ports 80 and 443 (root)')
    .option('--dry-run', 'print every file it would write and every command it would run; change nothing')
    .option('--base-domain <domain>', 'projects answer at <project>.<domain> (written to /etc/slipway/slipway.env)')
    .option('--swarm', "only this node's Swarm settings: daemon-wide no-new-privileges and the firewall (every node)")
    .option(
      '--edge <addresses>',
      "with --swarm: the edge's node, the only peer allowed to task ports (default: the managers)",
    )
    .option(
      '--cluster <cidrs>',
      "with --swarm: the cluster's nodes (addresses or CIDRs), the only peers allowed to Swarm's ports",
    )
    .action(
      async (opts: { dryRun?: boolean; baseDomain?: string; swarm?: boolean; edge?: string; cluster?: string }) => {
        if (opts.swarm) return (await import('./install-swarm.ts')).installSwarm(io, opts);
        if (opts.edge !== undefined || opts.cluster !== undefined)
          throw new UsageError('--edge and --cluster go with --swarm');
        const baseDomain =
          opts.baseDomain === undefined ? null : loadConfig({ SLIPWAY_BASE_DOMAIN: opts.baseDomain }).baseDomain;
        const facts = gatherFacts(DEFAULT_PATHS, io.execPath);
        const steps = installPlan(facts, { baseDomain }, VERSION);
        const problems = installProblems(io);
        if (opts.dryRun) return printDryRun(io, 'install', problems, steps);
        if (problems.length > 0) throw new FailedError(`Cannot install: ${problems[0]}`, problems.slice(1));
        await apply(io, steps);
        out(io, '');
        out(io, `Slipway ${VERSION} is installed: the API on http://127.0.0.1:7070, the edge on port 80.`);
        out(
          io,
          `The admin token is in ${DEFAULT_PATHS.dataDir}/admin-token; as root on this host the CLI uses it by itself (\`slipway status\`).`,
        );
        if (facts.systemdMissing) {
          out(
            io,
            `${facts.systemdMissing}, so nothing was started: when it is, run \`systemctl enable --now ${UNIT_NAMES.api} ${UNIT_NAMES.edge}\`.`,
          );
        } else out(io, 'Check the host with: slipway doctor');
      },
    );

  cli
    .command('uninstall')
    .description('Stop and remove the systemd services and the executable; the data stays unless --purge')
    .option('--dry-run', 'print what it would remove; change nothing')
    .option(
      '--purge',
      "also remove the data directory, the settings, the slipway and slipway-edge users and Slipway's Docker objects",
    )
    .option('-y, --yes', 'do not ask before purging')
    .action(async (opts: { dryRun?: boolean; purge?: boolean; yes?: boolean }) => {
      const facts = gatherFacts(DEFAULT_PATHS, io.execPath);
      const steps = uninstallPlan(facts, { purge: opts.purge === true });
      const problems = process.getuid?.() === 0 ? [] : ['it must run as root: sudo slipway uninstall'];
      if (opts.dryRun) return printDryRun(io, 'uninstall', problems, steps);
      if (problems.length > 0) throw new FailedError(`Cannot uninstall: ${problems[0]}`);
      if (opts.purge && !opts.yes)
        await confirmByName(io, 'purge', `Delete ${DEFAULT_PATHS.dataDir}, every app container and image`);
      await apply(io, steps);
      out(
        io,
        opts.purge
          ? 'Slipway is removed, with its data.'
          : `Slipway is removed; its data is kept in ${DEFAULT_PATHS.dataDir}.`,
      );
    });
}

/** What stops a real install on this host (a dry run prints them as notes). */
export function installProblems(io: Io): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('it must run as root: sudo slipway install');
  if (!runningCompiled()) {
    problems.push(
      `${io.execPath} is not Slipway's executable (this is \`bun src/main.ts\`): build it with \`bun scripts/build.ts\`, then run \`sudo ./dist/slipway install\``,
    );
  }
  if (!groupExists('docker'))
    problems.push('the docker group does not exist: install Docker first (apt-get install docker.io)');
  return problems;
}

/** The --dry-run report: each problem a real run would stop at, then every step with file contents. */
export function printDryRun(io: Io, command: string, problems: string[], steps: Step[]): void {
  out(io, `Dry run of \`slipway ${command}\`: nothing is changed.`);
  for (const p of problems) out(io, `note   a real run would stop: ${p}`);
  for (const step of steps) out(io, describeStep(step, true));
}

async function apply(io: Io, steps: Step[]): Promise<void> {
  // Loaded here, not at start: the Docker client's module is not needed by any other command.
  const { createDockerClient } = await import('../runtime/docker.ts');
  try {
    await applyPlan(steps, {
      report: (line) => out(io, line),
      run: spawnRunner,
      docker: () => createDockerClient(loadConfig(io.env)),
      agent: () => readAgent(DEFAULT_PATHS.dataDir),
    });
  } catch (err) {
    if (err instanceof StepError) throw new FailedError(err.message);
    throw err;
  }
}
