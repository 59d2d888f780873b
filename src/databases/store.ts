/**
 * Where a project's Postgres runs, as the runtime decides: a container on the one engine
 * (provision.ts, inspect.ts, backup.ts, drop.ts), or a service pinned to a Swarm node
 * (runtime/swarm/database.ts). The database routes, backups and restores go through this, so they
 * read the same on both; `runtime.databases` is the one to use.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { dumpDatabase, restoreDatabase } from './backup.ts';
import { dropDatabase } from './drop.ts';
import { type DatabaseRef, inspectDatabase } from './inspect.ts';
import { type ProvisionOptions, provisionDatabase } from './provision.ts';
import type { DatabaseInfo, DatabaseSpec } from './spec.ts';

/** A provisioned database, and what to record of it (databases.container_id and image_id). */
export interface ProvisionedDatabase {
  info: DatabaseInfo;
  /** The container's id on one engine, the service's on Swarm. */
  recordId: string;
  imageId: string;
}

/** Provision, inspect, dump, restore and drop a project's database; a ref names the recorded one. */
export interface DatabaseStore {
  provision(spec: DatabaseSpec, opts: ProvisionOptions): Promise<ProvisionedDatabase>;
  inspect(ref: DatabaseRef, project: string): Promise<DatabaseInfo | null>;
  dump(ref: DatabaseRef, project: string): Promise<Readable>;
  restore(ref: DatabaseRef, project: string, dump: Readable): Promise<void>;
  drop(ref: DatabaseRef, project: string): Promise<void>;
}

/** A database as a container on the one engine Slipway drives. */
export function containerDatabases(docker: Docker): DatabaseStore {
  return {
    async provision(spec, opts) {
      const info = await provisionDatabase(docker, spec, opts);
      if (!info.containerId || !info.imageId) throw new Error(`The database of "${spec.project}" has no container`);
      return { info, recordId: info.containerId, imageId: info.imageId };
    },
    inspect: (ref, project) => inspectDatabase(docker, ref, project),
    dump: (ref, project) => dumpDatabase(docker, ref, project),
    restore: (ref, project, dump) => restoreDatabase(docker, ref, project, dump),
    drop: (ref, project) => dropDatabase(docker, ref, project),
  };
}
