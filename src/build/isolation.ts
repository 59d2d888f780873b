/**
 * Build isolation on the engine's host: the build network (build-network.ts), its firewall
 * (firewall.ts) and the process-limit cgroups (cgroups.ts). Setting them up needs root and is done
 * by `prepare` (`slipway prepare-builds`, which slipway.service runs as root before each start, or
 * `slipway serve` itself when it runs as root); the agent then only checks that they are in place,
 * and refuses to build when something this host can enforce is missing. Only a process limit the
 * host cannot have (systemd cgroup driver) is skipped, and every build's log says so.
 *
 * The firewall leaves no trace the unprivileged agent can read, so `prepare` writes a marker under
 * /run: like the iptables rules it vanishes at reboot, when the rules must be set up again.
 */
import type Docker from 'dockerode';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config.ts';
import { BuildIsolationUnavailable } from '../deployments/failures.ts';
import { BUILD_NETWORK, type BuildNetworkNames, buildNetworkProblem, ensureBuildNetwork } from './build-network.ts';
import { PidsSlots } from './cgroups.ts';
import { applyFirewall, type FirewallSpec, nameserversOf } from './firewall.ts';
import type { BuildSandbox } from './sandbox.ts';

/** Everything that decides how builds are isolated on this host. */
export interface IsolationSettings {
  names: BuildNetworkNames;
  /** Slipway's iptables chains are `<prefix>-IN` and `<prefix>-OUT`. */
  chainPrefix: string;
  cgroupRoot: string;
  /** The parent of the slot cgroups. */
  cgroupParent: string;
  /** The file `prepare` writes once the firewall is set up. */
  marker: string;
  resolvConf: string;
  /** Builds that may run at once: one process-limit slot each. */
  slots: number;
  cpus: number;
  pidsLimit: number;
  allowPrivate: boolean;
}

/** The host-wide names of an install: every agent on the host shares one build network and firewall. */
export function isolationSettings(config: Config): IsolationSettings {
  return {
    names: BUILD_NETWORK,
    chainPrefix: 'SLIPWAY-BUILD',
    cgroupRoot: '/sys/fs/cgroup',
    cgroupParent: 'slipway-build',
    marker: '/run/slipway/build-isolation.json',
    resolvConf: '/etc/resolv.conf',
    slots: config.buildConcurrency,
    cpus: config.buildCpus,
    pidsLimit: config.buildPidsLimit,
    allowPrivate: config.buildAllowPrivate,
  };
}

/** A build's sandbox, to be released when the build ends. */
export interface SandboxLease {
  sandbox: BuildSandbox;
  /** Set when the host cannot limit the build's processes: why. */
  unlimitedBecause: string | null;
  release(): void;
}

interface InPlace {
  slots: PidsSlots | null;
  unlimitedBecause: string | null;
}

/** The build isolation of one agent. */
export class BuildIsolation {
  private inPlace: InPlace | null = null;
  private readonly free: number[];
  private readonly waiting: ((slot: number) => void)[] = [];

  constructor(
    private readonly docker: Docker,
    private readonly s: IsolationSettings,
  ) {
    this.free = Array.from({ length: s.slots }, (_, n) => s.slots - 1 - n);
  }

  /** Sets up the network, the firewall and the process-limit cgroups; needs root. Returns what it did. */
  async prepare(): Promise<string[]> {
    const done: string[] = [];
    await ensureBuildNetwork(this.docker, this.s.names);
    done.push(`build network ${this.s.names.network} (bridge ${this.s.names.bridge})`);
    const spec = this.firewallSpec();
    await applyFirewall(spec);
    // Readable by the agent's own user, whatever the umask of the privileged step.
    mkdirSync(dirname(this.s.marker), { recursive: true });
    chmodSync(dirname(this.s.marker), 0o755);
    writeFileSync(this.s.marker, `${JSON.stringify(markerOf(spec))}\n`);
    chmodSync(this.s.marker, 0o644);
    done.push(
      `firewall chains ${spec.chainPrefix}-IN and -OUT (private ranges ${spec.allowPrivate ? 'allowed' : 'blocked'})`,
    );
    const support = PidsSlots.for(await this.cgroupHost(), this.slotOptions());
    if (support.ok) {
      support.slots.prepare();
      done.push(`${this.s.slots} process-limit cgroups /${this.s.cgroupParent}/<n> of ${this.s.pidsLimit} processes`);
    } else {
      done.push(`no process limit: ${support.reason}`);
    }
    this.inPlace = null;
    return done;
  }

  /** Checks that everything is in place (once it is, it is not checked again); throws BuildIsolationUnavailable. */
  async check(): Promise<InPlace> {
    if (this.inPlace) return this.inPlace;
    const network = await buildNetworkProblem(this.docker, this.s.names);
    if (network !== null) throw new BuildIsolationUnavailable(network);
    const firewall = this.firewallProblem();
    if (firewall !== null) throw new BuildIsolationUnavailable(firewall);
    const support = PidsSlots.for(await this.cgroupHost(), this.slotOptions());
    if (support.ok) {
      const problem = support.slots.problem();
      if (problem !== null) throw new BuildIsolationUnavailable(problem);
    }
    this.inPlace = support.ok
      ? { slots: support.slots, unlimitedBecause: null }
      : { slots: null, unlimitedBecause: support.reason };
    return this.inPlace;
  }

  /** A sandbox for one build, once one of the slots is free; throws BuildIsolationUnavailable. */
  async acquire(): Promise<SandboxLease> {
    const { slots, unlimitedBecause } = await this.check();
    const slot = this.free.pop() ?? (await new Promise<number>((resolve) => this.waiting.push(resolve)));
    let released = false;
    return {
      sandbox: { network: this.s.names.network, cpus: this.s.cpus, processes: slots?.limitFor(slot) ?? null },
      unlimitedBecause,
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiting.shift();
        if (next) next(slot);
        else this.free.push(slot);
      },
    };
  }

  private firewallSpec(): FirewallSpec {
    const resolv = existsSync(this.s.resolvConf) ? readFileSync(this.s.resolvConf, 'utf8') : '';
    return {
      bridge: this.s.names.bridge,
      chainPrefix: this.s.chainPrefix,
      allowPrivate: this.s.allowPrivate,
      nameservers: nameserversOf(resolv),
    };
  }

  private firewallProblem(): string | null {
    if (!existsSync(this.s.marker)) return 'the firewall of the build network is not set up';
    const found = JSON.parse(readFileSync(this.s.marker, 'utf8')) as ReturnType<typeof markerOf>;
    const want = markerOf(this.firewallSpec());
    if (found.bridge !== want.bridge || found.chainPrefix !== want.chainPrefix) {
      return `the firewall was set up for bridge ${found.bridge}, not ${want.bridge}`;
    }
    if (found.allowPrivate !== want.allowPrivate) {
      return `the firewall was set up with SLIPWAY_BUILD_ALLOW_PRIVATE=${found.allowPrivate}`;
    }
    return null;
  }

  private async cgroupHost() {
    const info = (await this.docker.info()) as { CgroupDriver?: string; CgroupVersion?: string };
    return { driver: info.CgroupDriver ?? 'unknown', version: info.CgroupVersion ?? '1' };
  }

  private slotOptions() {
    return { root: this.s.cgroupRoot, parent: this.s.cgroupParent, count: this.s.slots, limit: this.s.pidsLimit };
  }
}

function markerOf(spec: FirewallSpec) {
  return { bridge: spec.bridge, chainPrefix: spec.chainPrefix, allowPrivate: spec.allowPrivate };
}
