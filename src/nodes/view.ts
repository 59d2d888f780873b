/** What `GET /v1/nodes` shows of one machine that runs Slipway's containers or Swarm tasks. */

/** One of Slipway's tasks (on Swarm) or containers (on one engine) on a node. */
export interface NodeTaskView {
  id: string;
  /** The Swarm service, or the container's name on one engine. */
  service: string;
  project: string;
  /** `app` or `database`. */
  role: string;
  /** The deployment this task runs; null for a database. */
  release: string | null;
  /** What the engine reports: running, starting, pending, failed, exited, … */
  state: string;
}

/** A node: a Swarm node, or the one local engine (role `standalone`). */
export interface NodeView {
  id: string;
  hostname: string;
  role: 'manager' | 'worker' | 'standalone';
  /** Whether it is the Swarm's leader; false on one engine. */
  leader: boolean;
  /** active, pause or drain (`active` on one engine). */
  availability: string;
  /** ready, down, unknown or disconnected (`ready` on one engine that answers). */
  state: string;
  /** The address the cluster reaches the node at; null on one engine. */
  address: string | null;
  engine_version: string;
  resources: { cpus: number; memory_bytes: number };
  labels: Record<string, string>;
  tasks: NodeTaskView[];
}
