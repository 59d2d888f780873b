import { t } from 'elysia';

/** One of Slipway's tasks (Swarm) or containers (one engine) on a node. */
export const NodeTask = t.Object({
  id: t.String({ description: 'The Swarm task id, or the container id on one engine' }),
  service: t.String({
    description: 'The Swarm service and slot (`slipway-web-dep_….1`), or the container name',
    examples: ['slipway-web-dep_01jd5x9k2m.1'],
  }),
  project: t.String({ examples: ['web'] }),
  role: t.String({ description: '`app` or `database`', examples: ['app'] }),
  release: t.Union([t.String(), t.Null()], { description: 'The deployment it runs; null for a database' }),
  state: t.String({ description: "The engine's state of it: running, starting, pending, failed, …" }),
});

/** A node of the cluster, or the one engine. */
export const Node = t.Object({
  id: t.String({ description: 'The Swarm node id, or the engine id' }),
  hostname: t.String(),
  role: t.Union([t.Literal('manager'), t.Literal('worker'), t.Literal('standalone')]),
  leader: t.Boolean({ description: "Whether it is the Swarm's leader manager" }),
  availability: t.String({ description: 'active, pause or drain', examples: ['active'] }),
  state: t.String({ description: 'ready, down, unknown or disconnected', examples: ['ready'] }),
  address: t.Union([t.String(), t.Null()], {
    description: 'The address the cluster (and the edge) reaches it at; null for a standalone engine',
    examples: ['10.0.0.11'],
  }),
  engine_version: t.String({ examples: ['20.10.24'] }),
  resources: t.Object({
    cpus: t.Number({ description: 'CPUs the node offers' }),
    memory_bytes: t.Integer({ description: 'Memory the node offers, bytes' }),
  }),
  labels: t.Record(t.String(), t.String(), { description: "The node's labels (Swarm node labels, or engine labels)" }),
  tasks: t.Array(NodeTask, {
    description: "Slipway's tasks on the node that are meant to run; only the token's projects",
  }),
});
