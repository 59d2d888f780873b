import type Docker from 'dockerode';
import type { InstanceRepo } from '../db/instances.ts';
import type { Logger } from '../log.ts';
import { dockerRuntime } from './docker-runtime.ts';
import type { ReleaseSpec, Runtime, RuntimeKind } from './runtime.ts';
import { swarmRuntime } from './swarm/runtime.ts';

/** What the runtime needs from the rest of Slipway. */
export interface RuntimeDeps {
  docker: Docker;
  /** Where instances are recorded (containers on docker, services on swarm). */
  registry: InstanceRepo;
  agentId: string;
  log: Logger;
  /**
   * Makes a release's image pullable by every node (pushes it to the cluster registry) and returns
   * the reference the nodes pull (`repo@sha256:…`); without it the image is used as it is, which
   * only a single-node swarm can run.
   */
  publishImage?: (release: ReleaseSpec) => Promise<string>;
  /** Whether overlay networks are encrypted; by default, when the kernel has ESP (IPsec). */
  encryptOverlay?: boolean;
}

/** The runtime SLIPWAY_RUNTIME names; the only place that knows there are two. */
export function createRuntime(kind: RuntimeKind, d: RuntimeDeps): Runtime {
  return kind === 'swarm' ? swarmRuntime(d) : dockerRuntime(d.docker, d.registry, d.agentId);
}
