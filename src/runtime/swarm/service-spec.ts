import type Docker from 'dockerode';
import { KEPT_CAPABILITIES, PIDS_LIMIT } from '../instances.ts';
import { appLabels, LABEL_PREFIX } from '../labels.ts';
import type { ReleaseSpec } from '../runtime.ts';

/** The label that remembers a release service's replica count while a hand-off holds it at 0. */
export const REPLICAS_LABEL = `${LABEL_PREFIX}replicas`;

/** Seconds a task gets between SIGTERM and SIGKILL when its service is removed. */
export const STOP_GRACE_SECONDS = 10;

/**
 * The name of a release's service: `slipway-<project>-<number>-<random>` like a container's, with
 * the project cut so that the name stays a DNS label (63 characters) for any project name.
 */
export function serviceName(project: string, number: number, random: string): string {
  const tail = `-${number}-${random}`;
  return `slipway-${project.slice(0, 63 - 'slipway-'.length - tail.length)}${tail}`;
}

/** Where a release's tasks may run. */
export interface PlacementInput {
  /**
   * The node a release with volumes is pinned to (named volumes are local to one node), or null:
   * tasks are then spread over the nodes.
   */
  pinnedNode: string | null;
}

/**
 * The service of one release (blue/green: a new service per release, never `service update`):
 * `count` replicas spread over the nodes, each task with the limits of an app container (memory,
 * CPU, pids, the short capability list, an init as PID 1, rotated logs), on the project's overlay
 * network only, its port published in host mode on a random port of its node. Swarm has no
 * per-service `no-new-privileges` and no memory-swap limit: the host's daemon.json sets the former.
 */
export function releaseServiceSpec(
  name: string,
  spec: ReleaseSpec,
  image: string,
  count: number,
  placement: PlacementInput,
): Docker.CreateServiceOptions {
  const labels = appLabels(spec.agentId, { project: spec.project, id: spec.deploymentId, number: spec.number });
  return {
    Name: name,
    Labels: { ...labels, [REPLICAS_LABEL]: String(count) },
    TaskTemplate: {
      ContainerSpec: {
        Image: image,
        Env: Object.entries({ ...spec.env, PORT: String(spec.port) }).map(([k, v]) => `${k}=${v}`),
        Labels: labels,
        Mounts: spec.mounts ?? [],
        Init: true,
        CapabilityDrop: ['ALL'],
        CapabilityAdd: KEPT_CAPABILITIES,
        StopGracePeriod: STOP_GRACE_SECONDS * 1e9,
      },
      Resources: {
        Limits: {
          MemoryBytes: spec.memoryMb * 1024 * 1024,
          NanoCPUs: Math.round(spec.cpus * 1e9),
          Pids: PIDS_LIMIT,
        },
      },
      RestartPolicy: { Condition: 'any', Delay: 1e9 },
      Placement: placement.pinnedNode
        ? { Constraints: [`node.id==${placement.pinnedNode}`] }
        : { Preferences: [{ Spread: { SpreadDescriptor: 'node.id' } }] },
      Networks: [{ Target: spec.network }],
      LogDriver: { Name: 'json-file', Options: { 'max-size': '10m', 'max-file': '3' } },
    },
    Mode: { Replicated: { Replicas: count } },
    EndpointSpec: {
      // DNS round robin: the project's other services reach the tasks by the service's name
      // without a virtual IP (the edge never uses either; it dials each task's node and port).
      Mode: 'dnsrr',
      // No PublishedPort: each task gets a random port of its node; `host` mode skips the routing mesh.
      Ports: [{ Protocol: 'tcp', TargetPort: spec.port, PublishMode: 'host' }],
    },
  };
}
