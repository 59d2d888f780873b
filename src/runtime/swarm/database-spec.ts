/** The Swarm service of a project's Postgres: the container of databases/provision.ts, as a pinned service. */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { DATABASE_SUPERUSER } from '../../databases/roles.ts';
import {
  DATABASE_CAPABILITIES,
  DATABASE_DATA_DIR,
  DATABASE_PIDS_LIMIT,
  DEFAULT_DATABASE_MEMORY_MB,
  databaseContainerName,
  databaseIdentity,
  databaseLabels,
  databaseVolumeName,
  type DatabaseSpec,
} from '../../databases/spec.ts';

/** What to provision on Swarm: the docker spec, plus the node the service is pinned to. */
export interface SwarmDatabaseSpec extends DatabaseSpec {
  /** The node that runs the database and holds its volume; default: the manager this engine is. */
  nodeId?: string;
}

/** The service's name: the container's on one engine, so DATABASE_URL's host is the same on both. */
export function databaseServiceName(project: string): string {
  return databaseContainerName(project);
}

/**
 * One replica pinned to `nodeId` (its named volume lives on that node), on the project's overlay
 * network only, with the alias `db` and no published port (nor a virtual IP, see EndpointSpec); the limits and the short capability list
 * of the docker path. Swarm services have no `no-new-privileges` and no swap limit: the node's
 * daemon.json (`slipway install --swarm`) sets the former for every container.
 */
export function databaseServiceSpec(
  spec: DatabaseSpec,
  nodeId: string,
  superuser: string,
): Docker.CreateServiceOptions {
  const labels = { ...spec.labels, ...databaseLabels(spec.agentId, spec.project, superuser) };
  const volumeLabels = { ...spec.labels, ...databaseLabels(spec.agentId, spec.project, DATABASE_SUPERUSER) };
  return {
    Name: databaseServiceName(spec.project),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.image,
        // As on one engine: the superuser's password is one nobody knows, and prepareRoles removes it.
        Env: [
          `POSTGRES_PASSWORD=${randomBytes(24).toString('base64url')}`,
          `POSTGRES_USER=${DATABASE_SUPERUSER}`,
          `POSTGRES_DB=${databaseIdentity(spec.project).database}`,
        ],
        Labels: labels,
        Mounts: [
          {
            Type: 'volume',
            Source: databaseVolumeName(spec.project),
            Target: DATABASE_DATA_DIR,
            // Made with these labels by the node's engine when the task first starts there.
            VolumeOptions: { NoCopy: false, Labels: volumeLabels, DriverConfig: { Name: 'local', Options: {} } },
          },
          // Postgres' parallel queries use /dev/shm; a task has no --shm-size.
          {
            Type: 'tmpfs',
            Source: '',
            Target: '/dev/shm',
            TmpfsOptions: { SizeBytes: 128 * 1024 * 1024, Mode: 0o1777 },
          },
        ],
        CapabilityDrop: ['ALL'],
        CapabilityAdd: DATABASE_CAPABILITIES,
        // Time for a clean shutdown checkpoint before the task is killed.
        StopGracePeriod: 30e9,
      },
      Resources: {
        Limits: { MemoryBytes: (spec.memoryMb ?? DEFAULT_DATABASE_MEMORY_MB) * 1024 * 1024, Pids: DATABASE_PIDS_LIMIT },
      },
      RestartPolicy: { Condition: 'any', Delay: 2e9 },
      Placement: { Constraints: [`node.id==${nodeId}`] },
      Networks: [{ Target: spec.network, Aliases: ['db'] }],
      LogDriver: { Name: 'json-file', Options: { 'max-size': '10m', 'max-file': '3' } },
    },
    Mode: { Replicated: { Replicas: 1 } },
    // DNS names the running task's address itself, not a virtual IP: VIPs need the kernel's IPVS
    // (absent on some hosts), and one replica gains nothing from load balancing. After a move the
    // name resolves to the new task, and clients reconnect as they do after any database restart.
    EndpointSpec: { Mode: 'dnsrr' },
  };
}
