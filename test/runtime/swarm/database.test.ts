/**
 * A project's Postgres on the real single-node swarm of scripts/swarm-cluster.sh: a service pinned to
 * the manager, its volume there, reachable from its project's overlay network and from no other.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { runCommand } from '../../../src/databases/exec.ts';
import { databaseVolumeName } from '../../../src/databases/spec.ts';
import { networkLabels } from '../../../src/runtime/labels.ts';
import { databaseServiceName } from '../../../src/runtime/swarm/database-spec.ts';
import {
  dropSwarmDatabase,
  dumpSwarmDatabase,
  findSwarmDatabaseContainer,
  inspectSwarmDatabase,
  provisionSwarmDatabase,
  restoreSwarmDatabase,
  type SwarmDatabase,
} from '../../../src/runtime/swarm/database.ts';
import { cleanupByLabel, requireDocker, testLabel } from '../../helpers/docker.ts';
import { requireRoot } from '../../helpers/root.ts';
import { pushToClusterRegistry } from '../../helpers/cluster-images.ts';
import { ensureSwarmCluster } from '../../helpers/swarm-cluster.ts';

const FIXTURE = 'slipway-fixture/postgres:latest';
const runnable = (await requireDocker()) && requireRoot('the swarm database tests');

describe.skipIf(!runnable)('a database on Swarm', () => {
  let docker: Docker;
  // From the cluster registry, as a real cluster pulls it (see pushToClusterRegistry).
  let POSTGRES = FIXTURE;
  let managerNode: string;
  let db: SwarmDatabase;
  const label = testLabel();
  const suffix = randomBytes(3).toString('hex');
  const [alpha, beta] = [`dbalpha-${suffix}`, `dbbeta-${suffix}`];
  const agentId = `agt_swarmdb${suffix}`;
  const password = randomBytes(18).toString('base64url');

  const overlay = async (project: string) => {
    await docker.createNetwork({
      Name: `slipway-${project}`,
      Driver: 'overlay',
      Attachable: true,
      Labels: { ...networkLabels(project), ...label },
    });
    return `slipway-${project}`;
  };

  /** Runs `cmd` once as a service on `network` (on the manager) and returns its exit code. */
  const probe = async (network: string, cmd: string[], env: string[] = []): Promise<number> => {
    const created = (await docker.createService({
      Name: `slwprobe-${randomBytes(4).toString('hex')}`,
      Labels: label,
      TaskTemplate: {
        ContainerSpec: { Image: POSTGRES, Command: cmd, Env: env, Labels: label },
        RestartPolicy: { Condition: 'none' },
        Placement: { Constraints: [`node.id==${managerNode}`] },
        Networks: [{ Target: network }],
      },
      Mode: { Replicated: { Replicas: 1 } },
    })) as { id: string };
    try {
      for (;;) {
        const [task] = (await docker.listTasks({ filters: { service: [created.id] } })) as {
          Status: { State: string; Err?: string; ContainerStatus?: { ExitCode?: number } };
        }[];
        const state = task?.Status.State;
        if (state === 'complete' || state === 'failed') return task!.Status.ContainerStatus?.ExitCode ?? -1;
        if (state === 'rejected') throw new Error(`probe rejected: ${task!.Status.Err}`);
        await Bun.sleep(200);
      }
    } finally {
      await docker.getService(created.id).remove();
    }
  };

  beforeAll(async () => {
    const cluster = ensureSwarmCluster(1);
    docker = cluster.manager;
    POSTGRES = await pushToClusterRegistry(docker, FIXTURE, cluster.registry);
    managerNode = ((await docker.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID;
    const network = await overlay(alpha);
    await overlay(beta);
    db = await provisionSwarmDatabase(
      docker,
      { agentId, project: alpha, image: POSTGRES, network, password, labels: label },
      { timeoutMs: 120_000 },
    );
  }, 180_000);

  afterAll(async () => {
    if (!docker) return;
    for (const s of await docker.listServices({ filters: { label: [`slipway.test=${label['slipway.test']}`] } }))
      await docker
        .getService(s.ID as string)
        .remove()
        .catch(() => {});
    for (
      let i = 0;
      i < 100 &&
      (await docker.listContainers({ all: true, filters: { label: [`slipway.test=${label['slipway.test']}`] } }))
        .length > 0;
      i++
    )
      await Bun.sleep(200);
    await cleanupByLabel(docker, label['slipway.test']);
  }, 60_000);

  test('runs as one service pinned to the manager, its volume there, on its project network only', async () => {
    const service = (await docker.getService(db.serviceId).inspect()) as {
      Spec: {
        Name: string;
        TaskTemplate: { Placement: { Constraints: string[] }; Networks: { Target: string; Aliases: string[] }[] };
        EndpointSpec?: { Ports?: unknown[] };
      };
    };
    expect(service.Spec.Name).toBe(databaseServiceName(alpha));
    expect(service.Spec.TaskTemplate.Placement.Constraints).toEqual([`node.id==${managerNode}`]);
    expect(service.Spec.TaskTemplate.Networks).toHaveLength(1);
    expect(service.Spec.TaskTemplate.Networks[0]!.Aliases).toEqual(['db']);
    expect(service.Spec.EndpointSpec?.Ports ?? []).toEqual([]);
    const [task] = (await docker.listTasks({ filters: { service: [db.serviceId], 'desired-state': ['running'] } })) as {
      NodeID: string;
    }[];
    expect(task!.NodeID).toBe(managerNode);
    const volume = await docker.getVolume(databaseVolumeName(alpha)).inspect();
    expect(volume.Labels['slipway.agent']).toBe(agentId);
    expect(db.info).toMatchObject({
      status: 'running',
      host: databaseServiceName(alpha),
      user: 'app',
      database: 'app',
    });
    expect(db.info.version).toMatch(/^\d+\.\d+/);
  });

  test("its task's container on the manager accepts psql through exec, as the app's role with the password", async () => {
    const containerId = await findSwarmDatabaseContainer(docker, { agentId, serviceId: db.serviceId }, alpha);
    expect(containerId).toBe(db.info.containerId);
    const result = await runCommand(
      docker,
      containerId!,
      [
        'psql',
        '-X',
        '-A',
        '-t',
        '-h',
        '127.0.0.1',
        '-U',
        'app',
        '-d',
        'app',
        '-c',
        'SELECT current_user, usesuper FROM pg_user WHERE usename = current_user',
      ],
      { env: [`PGPASSWORD=${password}`], user: 'postgres' },
    );
    expect({ exitCode: result.exitCode, stdout: result.stdout.trim() }).toEqual({ exitCode: 0, stdout: 'app|f' });
  });

  test("the app on the project's overlay logs in by the service name and by the alias db", async () => {
    const login = (host: string) =>
      probe(
        `slipway-${alpha}`,
        ['psql', '-X', '-h', host, '-U', 'app', '-d', 'app', '-c', 'SELECT 1'],
        [`PGPASSWORD=${password}`, 'PGCONNECT_TIMEOUT=5'],
      );
    expect(await login(databaseServiceName(alpha))).toBe(0);
    expect(await login('db')).toBe(0);
  }, 60_000);

  test("a service on another project's overlay reaches it neither by name nor by address", async () => {
    const container = await docker.getContainer(db.info.containerId!).inspect();
    const address = container.NetworkSettings.Networks[`slipway-${alpha}`]?.IPAddress;
    expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const ready = (network: string, host: string) =>
      probe(network, ['pg_isready', '-h', host, '-p', '5432', '-t', '3']);
    // Control first: from its own network the same probe succeeds (0); elsewhere 2 (no response).
    expect(await ready(`slipway-${alpha}`, address!)).toBe(0);
    const fromBeta = await Promise.all([
      ready(`slipway-${beta}`, address!),
      ready(`slipway-${beta}`, databaseServiceName(alpha)),
      ready(`slipway-${beta}`, 'db'),
    ]);
    expect(fromBeta).toEqual([2, 2, 2]);
  }, 60_000);

  test("another agent's record does not find it, and a second provisioning is a conflict", async () => {
    expect(await inspectSwarmDatabase(docker, { agentId: 'agt_other', serviceId: db.serviceId }, alpha)).toBeNull();
    expect(
      await findSwarmDatabaseContainer(docker, { agentId: 'agt_other', serviceId: db.serviceId }, alpha),
    ).toBeNull();
    const network = `slipway-${alpha}`;
    await expect(
      provisionSwarmDatabase(
        docker,
        { agentId, project: alpha, image: POSTGRES, network, password, labels: label },
        {
          timeoutMs: 30_000,
        },
      ),
    ).rejects.toThrow(`Cannot provision a database for "${alpha}": it already has one`);
  });

  test('refuses a node other than the engine’s own, before creating anything', async () => {
    await expect(
      provisionSwarmDatabase(
        docker,
        {
          agentId,
          project: beta,
          image: POSTGRES,
          network: `slipway-${beta}`,
          password,
          labels: label,
          nodeId: 'abc123',
        },
        { timeoutMs: 30_000 },
      ),
    ).rejects.toThrow(`it must run on the node of the agent's engine (${managerNode}), not abc123`);
    expect(await docker.listServices({ filters: { name: [databaseServiceName(beta)] } })).toEqual([]);
  });

  test("dumps and restores through the task's container on the manager", async () => {
    const ref = { agentId, serviceId: db.serviceId };
    const sql = (statement: string) =>
      runCommand(
        docker,
        db.info.containerId!,
        [
          'psql',
          '-X',
          '-A',
          '-t',
          '-v',
          'ON_ERROR_STOP=1',
          '-h',
          '127.0.0.1',
          '-U',
          'app',
          '-d',
          'app',
          '-c',
          statement,
        ],
        { env: [`PGPASSWORD=${password}`], user: 'postgres' },
      );
    expect((await sql("CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')")).exitCode).toBe(0);
    const chunks: Buffer[] = [];
    for await (const chunk of await dumpSwarmDatabase(docker, ref, alpha)) chunks.push(chunk as Buffer);
    const dump = Buffer.concat(chunks);
    expect(dump.subarray(0, 5).toString()).toBe('PGDMP');
    expect((await sql('DROP TABLE notes')).exitCode).toBe(0);
    await restoreSwarmDatabase(docker, ref, alpha, Readable.from([dump]));
    expect((await sql('SELECT body FROM notes')).stdout.trim()).toBe('kept');
  });

  test('dropping it removes the service and the volume', async () => {
    const ref = { agentId, serviceId: db.serviceId };
    await dropSwarmDatabase(docker, ref, alpha);
    expect(await inspectSwarmDatabase(docker, ref, alpha)).toBeNull();
    await expect(docker.getVolume(databaseVolumeName(alpha)).inspect()).rejects.toMatchObject({ statusCode: 404 });
  }, 90_000);
});
