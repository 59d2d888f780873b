/**
 * The real Docker Swarm that scripts/swarm-cluster.sh builds on this machine: every node a dockerd
 * in its own network namespace, node 0 the manager, and a cluster registry on the bridge. The
 * default engine (/var/run/docker.sock) is not part of it.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Docker from 'dockerode';

const SCRIPT = join(import.meta.dir, '../../scripts/swarm-cluster.sh');

/** One node: its index, its address on the cluster bridge, and a client for its engine. */
export interface SwarmNode {
  index: number;
  /** `10.77.0.(10+index)`: where its host-mode published ports listen. */
  address: string;
  /** `unix:///run/slipway-swarm/<index>/docker.sock`. */
  host: string;
  docker: Docker;
}

export interface SwarmCluster {
  /** The manager's engine, as `DOCKER_HOST` for an agent: `unix:///run/slipway-swarm/0/docker.sock`. */
  managerHost: string;
  /** `10.77.0.1:5077`: the cluster registry (no auth, deletes enabled), as `SLIPWAY_SWARM_REGISTRY`. */
  registry: string;
  nodes: SwarmNode[];
  manager: Docker;
}

/** Runs scripts/swarm-cluster.sh with `args`; throws with its output when it fails. */
export function swarmScript(...args: string[]): string {
  const result = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) {
    throw new Error(`swarm-cluster.sh ${args.join(' ')} failed (${result.status}): ${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** Makes sure a swarm of at least `nodes` nodes is up and healthy (seconds when it already is). */
export function ensureSwarmCluster(nodes: number): SwarmCluster {
  swarmScript('up', String(nodes));
  const env = parseExports(swarmScript('env', String(nodes)));
  const list: SwarmNode[] = [];
  for (let index = 0; index < nodes; index++) {
    const host = env[`SLIPWAY_SWARM_NODE_${index}_HOST`] as string;
    list.push({
      index,
      host,
      address: env[`SLIPWAY_SWARM_NODE_${index}_ADDR`] as string,
      docker: new Docker({ socketPath: host.replace(/^unix:\/\//, '') }),
    });
  }
  return {
    managerHost: env.DOCKER_HOST as string,
    registry: env.SLIPWAY_SWARM_REGISTRY as string,
    nodes: list,
    manager: (list[0] as SwarmNode).docker,
  };
}

function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) env[match[1] as string] = match[2] as string;
  }
  return env;
}

/**
 * Removes what an agent left of `project` if a test failed half-way: services and networks on the
 * manager, containers, images and volumes on every node.
 */
export async function removeSwarmLeftovers(swarm: SwarmCluster, project: string): Promise<void> {
  const label = [`slipway.project=${project}`];
  for (const s of await swarm.manager.listServices({ filters: { label } }))
    await swarm.manager
      .getService(s.ID)
      .remove()
      .catch(() => {});
  for (const n of await swarm.manager.listNetworks({ filters: { label } }))
    await swarm.manager
      .getNetwork(n.Id)
      .remove()
      .catch(() => {});
  for (const { docker } of swarm.nodes) {
    for (const c of await docker.listContainers({ all: true, filters: { label } }).catch(() => []))
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {});
    for (const i of await docker.listImages({ filters: { label } }).catch(() => []))
      await docker
        .getImage(i.Id)
        .remove({ force: true })
        .catch(() => {});
    // Release images carry no project label: their tags (and pulled digests) name the project.
    const reference = [`slipway/${project}`, `*/slipway/${project}`];
    for (const i of await docker.listImages({ filters: { reference } }).catch(() => []))
      for (const ref of [...(i.RepoTags ?? []), ...(i.RepoDigests ?? [])])
        await docker
          .getImage(ref)
          .remove({ force: true })
          .catch(() => {});
    for (const v of (await docker.listVolumes({ filters: { label } }).catch(() => ({ Volumes: [] }))).Volumes ?? [])
      await docker
        .getVolume(v.Name)
        .remove()
        .catch(() => {});
  }
}
