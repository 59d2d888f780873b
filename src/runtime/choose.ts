import type Docker from 'dockerode';
import type { InstanceRepo } from '../db/instances.ts';
import type { Logger } from '../log.ts';
import { dockerRuntime } from './docker-runtime.ts';
import type { ReleaseSpec, Runtime, RuntimeKind } from './runtime.ts';
import { swarmRuntime } from './swarm/runtime.ts';
import type { RegistryAddress } from './swarm/registry-address.ts';
import type { Ipv4Range } from './subnets.ts';
import { pushReleaseImage, releaseRepository, removeReleaseImage } from './swarm/registry.ts';
import { registryClient } from './swarm/registry-client.ts';

/** What the runtime needs from the rest of Slipway. */
export interface RuntimeDeps {
  docker: Docker;
  /** Where instances are recorded (containers on docker, services on swarm). */
  records: InstanceRepo;
  agentId: string;
  log: Logger;
  /**
   * Makes a release's image pullable by every node (pushes it to the cluster registry) and returns
   * the reference the nodes pull (`repo@sha256:…`); without it the image is used as it is, which
   * only a single-node swarm can run.
   */
  publishImage?: (release: ReleaseSpec) => Promise<string>;
  /** Undoes publishImage once the manager removed the release's image. */
  unpublishImage?: (project: string, imageTag: string, kept: string[]) => Promise<void>;
  /** Whether overlay networks are encrypted; by default, when the kernel has ESP (IPsec). */
  encryptOverlay?: boolean;
  /** Where a Docker runtime's project networks take their subnets (Swarm's overlays use Swarm's pool). */
  projectSubnets?: Ipv4Range | null;
}

/**
 * The runtime SLIPWAY_RUNTIME names; the only place that knows there are two. On swarm with a
 * cluster registry (SLIPWAY_SWARM_REGISTRY), each release's image is pushed there when it starts
 * and its tasks pull it by digest.
 */
export function createRuntime(kind: RuntimeKind, clusterRegistry: RegistryAddress | null, d: RuntimeDeps): Runtime {
  if (kind === 'docker') return dockerRuntime(d.docker, d.records, d.agentId, d.projectSubnets ?? null);
  if (!clusterRegistry) return swarmRuntime(d);
  return swarmRuntime({
    ...d,
    async publishImage(spec: ReleaseSpec) {
      if (!spec.imageTag) throw new Error(`Release #${spec.number} of "${spec.project}" has no image tag to push`);
      const pushed = await pushReleaseImage(d.docker, clusterRegistry, { project: spec.project, image: spec.imageTag });
      return pushed.reference;
    },
    unpublishImage: (project, imageTag, kept) => unpublish(clusterRegistry, project, imageTag, kept),
  });
}

/** Deletes a release image's manifest from the cluster registry, unless a kept release shares it. */
async function unpublish(registry: RegistryAddress, project: string, imageTag: string, kept: string[]): Promise<void> {
  const repository = releaseRepository(project);
  const tagOf = (image: string) => (image.startsWith(`${repository}:`) ? image.slice(repository.length + 1) : null);
  const tag = tagOf(imageTag);
  if (!tag) return;
  const digest = await registryClient(registry).tagDigest(repository, tag);
  if (!digest) return;
  const keptTags = kept.map(tagOf).filter((t): t is string => t !== null);
  await removeReleaseImage(registry, {
    project,
    reference: `${registry.host}/${repository}@${digest}`,
    kept: keptTags,
  });
}
