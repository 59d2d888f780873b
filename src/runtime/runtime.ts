/**
 * The runtime: where app instances run. Everything outside src/runtime starts, lists, checks and
 * removes a project's instances through this interface, so releases, the reconciler, teardown and
 * the observers read the same on one Docker engine (DockerRuntime) and on a Swarm cluster
 * (SwarmRuntime). Which one runs is chosen once, in deps.ts, from SLIPWAY_RUNTIME.
 */

import type { DatabaseStore } from '../databases/store.ts';

/** The runtimes Slipway can drive. */
export type RuntimeKind = 'docker' | 'swarm';

/** What every instance of one release runs. */
export interface ReleaseSpec {
  agentId: string;
  project: string;
  projectId: string;
  deploymentId: string;
  number: number;
  /** The image by id (or reference) as the manager's engine has it. */
  image: string;
  /** Its tag, `slipway/<project>:<number>-<random>`, which a cluster registry repeats; null when unknown. */
  imageTag: string | null;
  /** The project's network, from ensureNetwork. */
  network: string;
  port: number;
  env: Record<string, string>;
  memoryMb: number;
  cpus: number;
  /** The project's volumes, by Docker volume name and mount path. */
  mounts?: { Type: 'volume'; Source: string; Target: string }[];
}

/** What an instance's runtime says about it between health probes. */
export interface InstanceState {
  running: boolean;
  oomKilled: boolean;
  exitCode: number;
}

/** A started instance: its id for the runtime and the `host:port` the edge sends traffic to. */
export interface Instance {
  id: string;
  /** The instances that live and go together (a container alone; a release's service on swarm). */
  group: string;
  name: string;
  target: string;
  /** Its state as the runtime read it right after starting it, when it did (see ReadyCheck.known). */
  started?: InstanceState;
}

/** A recorded instance as the runtime reports it now; state `missing` when it is gone. */
export interface ListedInstance {
  /** The runtime's id of the instance (what remove, stop and waitHealthy take). */
  id: string;
  /** See Instance.group. */
  group: string;
  /** A short name users see and pick instances by: `<number>-<random>` or `<number>-<random>.<slot>`. */
  instance: string;
  deploymentId: string;
  project: string;
  state: string;
  target: string | null;
  /** The instance's container on the engine Slipway talks to (logs, stats, exec), when it runs there. */
  containerId: string | null;
}

/** How to decide an instance is ready (see health.ts). */
export interface ReadyCheck {
  target: string;
  path: string;
  timeoutMs: number;
  intervalMs?: number;
  signal: AbortSignal;
  /** The instance's state read a moment ago (right after its start): the first probe need not ask again. */
  known?: InstanceState;
}

/** Where app instances run. */
export interface Runtime {
  readonly kind: RuntimeKind;
  /** Where projects' databases run: containers on one engine, services pinned to a node on Swarm. */
  readonly databases: DatabaseStore;
  /**
   * How often the live release's targets should be re-read and the edge updated, in ms, when the
   * runtime moves instances by itself (tasks rescheduled on another node); null when it never does.
   */
  readonly followIntervalMs: number | null;
  /** Whether the runtime replaces a dead instance of a release by itself. */
  readonly heals: boolean;
  /** Creates the project's private network if needed; returns its name. */
  ensureNetwork(project: string): Promise<string>;
  /** Removes the project's network; one still in use or already gone is left alone. */
  removeNetwork(project: string): Promise<void>;
  /** Starts `count` instances of a release and records them; if one fails, none is left. */
  start(spec: ReleaseSpec, count: number): Promise<Instance[]>;
  /** The recorded instances of a project, as they are now. */
  list(project: { id: string; name: string }): Promise<ListedInstance[]>;
  /** Stops (after `graceSeconds`) and removes instances and forgets them; ones already gone are fine. */
  remove(ids: string[], graceSeconds?: number): Promise<void>;
  /** Stops instances but keeps them, for a hand-off; `resume` starts them again. */
  stop(ids: string[]): Promise<void>;
  /** Starts stopped instances again; returns them as listed once they run. */
  resume(project: { id: string; name: string }, ids: string[]): Promise<ListedInstance[]>;
  /** Resolves once the instance answers its health check; throws a failure of deployments/failures.ts. */
  waitHealthy(id: string, check: ReadyCheck): Promise<void>;
  /** The last lines the instance logged, for failure reports; empty when none can be read. */
  lastLogLines(id: string, lines?: number): Promise<string[]>;
  /**
   * Forgets a release image the manager no longer keeps (`imageTag`, `slipway/<project>:<tag>`):
   * a cluster registry drops its copy unless a release of `kept` (image tags) shares it. Never throws.
   */
  forgetImage(project: string, imageTag: string, kept: string[]): Promise<void>;
  /** Removes this agent's app instances that Slipway never recorded and are older than `graceSeconds`. */
  removeUnrecorded(graceSeconds: number): Promise<number>;
}
