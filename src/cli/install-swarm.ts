/** `slipway install --swarm`: the host settings of a Swarm node (daemon-wide no-new-privileges, the firewall). */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../config.ts';
import { VERSION } from '../version.ts';
import { applyPlan, readAgent, spawnRunner, StepError } from '../install/apply.ts';
import { systemdMissing } from '../install/facts.ts';
import { DaemonJsonError, SWARM_PATHS, swarmPlan, type SwarmPaths } from '../install/swarm.ts';
import { AddressError, parseAddresses, parsePortRange } from '../install/swarm-firewall.ts';
import { FailedError, UsageError } from './errors.ts';
import { out, type Io } from './io.ts';
import { printDryRun } from './install.ts';

/** Options of `install --swarm`. */
export interface SwarmInstallOptions {
  dryRun?: boolean;
  edge?: string;
  cluster?: string;
}

/** Runs `slipway install --swarm` (or its dry run) on this node. */
export async function installSwarm(io: Io, opts: SwarmInstallOptions, paths: SwarmPaths = SWARM_PATHS): Promise<void> {
  if (opts.cluster === undefined) {
    throw new UsageError("--swarm needs --cluster: the addresses or CIDRs of the cluster's nodes", [
      'e.g. slipway install --swarm --cluster 10.0.0.0/24 (the private network the nodes talk on)',
    ]);
  }
  const { cluster, edge } = parseOrUsage(() => ({
    cluster: parseAddresses('--cluster', opts.cluster!),
    edge: opts.edge === undefined ? null : parseAddresses('--edge', opts.edge),
  }));
  const edgeAddresses = edge ?? (await managerAddresses(io));
  const portRange = parsePortRange(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'));
  let plan: ReturnType<typeof swarmPlan>;
  try {
    plan = swarmPlan(
      { daemonJson: readOrNull(paths.daemonJson), systemdMissing: systemdMissing() },
      { edge: edgeAddresses, cluster, portRange, version: VERSION },
      paths,
    );
  } catch (err) {
    if (err instanceof DaemonJsonError) throw new FailedError(`Cannot set up this node: ${err.message}`);
    throw err;
  }
  const problems = process.getuid?.() === 0 ? [] : ['it must run as root: sudo slipway install --swarm'];
  out(io, `edge   task ports (${portRange.join('-')}/tcp) open to ${edgeAddresses.join(', ')} and this node only`);
  out(io, `swarm  ports 2377/tcp, 7946/tcp+udp, 4789/udp open to ${cluster.join(', ')} only`);
  out(io, `daemon ${plan.daemonChange}`);
  if (opts.dryRun) return printDryRun(io, 'install --swarm', problems, plan.steps);
  if (problems.length > 0) throw new FailedError(`Cannot set up this node: ${problems[0]}`);
  try {
    await applyPlan(plan.steps, {
      report: (line) => out(io, line),
      run: spawnRunner,
      docker: () => {
        throw new Error('install --swarm does not use Docker');
      },
      agent: () => readAgent('/nonexistent'),
    });
  } catch (err) {
    if (err instanceof StepError) throw new FailedError(err.message);
    throw err;
  }
  out(io, '');
  out(io, 'The firewall is loaded. The engine applies no-new-privileges to the containers it starts after its');
  out(io, 'restart: drain the node (docker node update --availability drain <node>), run');
  out(io, '`systemctl restart docker`, then make it active again.');
}

/** The addresses of the Swarm's managers, where the agent and its edge run, from this engine. */
async function managerAddresses(io: Io): Promise<string[]> {
  // Loaded here: no other command needs the Docker client.
  const { createDockerClient } = await import('../runtime/docker.ts');
  const info = (await createDockerClient(loadConfig(io.env))
    .info()
    .catch(() => null)) as { Swarm?: { RemoteManagers?: { Addr: string }[] | null } } | null;
  const addresses = (info?.Swarm?.RemoteManagers ?? []).map((m) => m.Addr.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''));
  if (addresses.length === 0) {
    throw new UsageError("--swarm needs --edge: this engine is in no swarm, so the managers' addresses are unknown", [
      'e.g. --edge 10.0.0.10 (the address of the node the edge runs on, the manager)',
    ]);
  }
  return parseOrUsage(() => parseAddresses('--edge', addresses.join(',')));
}

function parseOrUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof AddressError) throw new UsageError(err.message);
    throw err;
  }
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
