/**
 * Every node's engine of the swarm on this machine, read from `swarm-cluster.sh env` (which never
 * changes the cluster, unlike `up`, which another test may be running at the same moment).
 */
import Docker from 'dockerode';
import { swarmScript } from '../../helpers/swarm-cluster.ts';

/** The engine of the node whose swarm id is `nodeId`. */
export async function engineOfNode(nodeId: string): Promise<Docker> {
  const hosts = [...swarmScript('env').matchAll(/^export SLIPWAY_SWARM_NODE_\d+_HOST=unix:\/\/(.+)$/gm)].map(
    (m) => m[1]!,
  );
  for (const socketPath of hosts) {
    const docker = new Docker({ socketPath });
    const info = (await docker.info().catch(() => ({}))) as { Swarm?: { NodeID?: string } };
    if (info.Swarm?.NodeID === nodeId) return docker;
  }
  throw new Error(`no engine of node ${nodeId} among ${hosts.join(', ')}`);
}
