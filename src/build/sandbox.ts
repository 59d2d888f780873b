/**
 * Where a build's step containers run and how far they may reach: the classic builder starts one
 * container per RUN step with the options of the build request, so the network, the CPU share and
 * the cgroup parent given here hold for every step. The build isolation (isolation.ts) hands one
 * sandbox to each build.
 */

/** How a build's step containers are confined. */
export interface BuildSandbox {
  /** The Docker network the step containers join (the build API's `networkmode`). */
  network: string;
  /** CPUs each step container may use. */
  cpus: number;
  /** The process limit over all the build's step containers; null where the host cannot set one. */
  processes: ProcessLimit | null;
}

/** A cgroup that caps the number of processes (and threads) of everything created under it. */
export interface ProcessLimit {
  /** The cgroup the engine creates the step containers under (the build API's `cgroupparent`). */
  cgroupParent: string;
  limit: number;
  /** True once the build's processes have reached the limit since the sandbox was handed out. */
  reached(): boolean;
}

/** One line for the build log saying how the build is confined. */
export function describeSandbox(s: BuildSandbox): string {
  const processes = s.processes === null ? 'no process limit' : `at most ${s.processes.limit} processes`;
  return `Build steps run on network ${s.network} with ${s.cpus} CPU${s.cpus === 1 ? '' : 's'} and ${processes}`;
}
