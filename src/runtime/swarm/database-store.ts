/**
 * The DatabaseStore of the swarm runtime: a project's Postgres as a one-replica service pinned to
 * the manager's node (database.ts). The record's container id holds the service's id.
 */
import type Docker from 'dockerode';
import type { DatabaseRef } from '../../databases/inspect.ts';
import type { DatabaseStore } from '../../databases/store.ts';
import {
  dropSwarmDatabase,
  dumpSwarmDatabase,
  inspectSwarmDatabase,
  provisionSwarmDatabase,
  restoreSwarmDatabase,
  type SwarmDatabaseRef,
} from './database.ts';

/** A database as a Swarm service on the node of the agent's engine. */
export function swarmDatabases(docker: Docker): DatabaseStore {
  const service = (ref: DatabaseRef): SwarmDatabaseRef => ({ agentId: ref.agentId, serviceId: ref.containerId });
  return {
    async provision(spec, opts) {
      const made = await provisionSwarmDatabase(docker, spec, opts);
      return { info: made.info, recordId: made.serviceId, imageId: made.info.imageId ?? '' };
    },
    inspect: (ref, project) => inspectSwarmDatabase(docker, service(ref), project),
    dump: (ref, project) => dumpSwarmDatabase(docker, service(ref), project),
    restore: (ref, project, dump) => restoreSwarmDatabase(docker, service(ref), project, dump),
    drop: (ref, project) => dropSwarmDatabase(docker, service(ref), project),
  };
}
