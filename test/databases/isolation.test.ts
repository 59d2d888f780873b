import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { dropDatabase } from '../../src/databases/drop.ts';
import { databaseUrl } from '../../src/databases/inspect.ts';
import type { DatabaseInfo } from '../../src/databases/spec.ts';
import { cleanupByLabel, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';
import {
  awkwardPassword,
  createProjectNetwork,
  probeFrom,
  provisionForTest,
  startPgApp,
  uniqueProject,
  type Scope,
  scopeOf,
} from './harness.ts';

const hasDocker = await requireDocker();
const docker = dockerClient();
const labels = testLabel();
const scope: Scope = scopeOf(`agent-${randomUUID()}`, labels);
const projectA = uniqueProject('iso-a');
const projectB = uniqueProject('iso-b');
const password = awkwardPassword();
let info: DatabaseInfo;
let networkB: string;
let addressA: string;

beforeAll(async () => {
  if (!hasDocker) return;
  info = await provisionForTest(docker, scope, projectA, password);
  networkB = await createProjectNetwork(docker, scope, projectB);
  const container = await docker.getContainer(info.containerId!).inspect();
  addressA = container.NetworkSettings.Networks[`slipway-${projectA}`]!.IPAddress;
}, 90_000);

afterAll(async () => {
  if (!hasDocker) return;
  await dropDatabase(docker, scope.ref, projectA).catch(() => {});
  await cleanupByLabel(docker, labels['slipway.test']);
});

describe.skipIf(!hasDocker)('database isolation', () => {
  test('a container on the same project network resolves and reaches the database', async () => {
    const seen = await probeFrom(docker, scope, `slipway-${projectA}`, info.host, addressA);
    expect(seen).toEqual({ dns: `resolved ${addressA}`, tcp: 'connected' });
    // The `db` alias works there too.
    expect((await probeFrom(docker, scope, `slipway-${projectA}`, 'db', addressA)).dns).toBe(`resolved ${addressA}`);
  }, 30_000);

  test("another project's container can neither resolve nor connect to it", async () => {
    const seen = await probeFrom(docker, scope, networkB, info.host, addressA);
    expect(seen.dns).not.toStartWith('resolved');
    expect(seen.tcp).not.toBe('connected');
  }, 30_000);

  test("another project's app gets an error, not a connection, with the right DATABASE_URL", async () => {
    const base = await startPgApp(docker, scope, networkB, databaseUrl(info, password));
    const res = await fetch(base);
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/ENOTFOUND|EAI_AGAIN|timeout/);
  }, 30_000);

  test('the database port is not published on the host', async () => {
    const container = await docker.getContainer(info.containerId!).inspect();
    expect(Object.keys(container.HostConfig.PortBindings ?? {})).toEqual([]);
    expect(container.HostConfig.PublishAllPorts).toBeFalsy();
    // The image EXPOSEs 5432, which Docker lists with no host binding.
    for (const bindings of Object.values(container.NetworkSettings.Ports ?? {})) expect(bindings).toBeNull();
    const [listed] = await docker.listContainers({ filters: { id: [info.containerId!] } });
    expect(listed?.Ports.filter((p) => p.PublicPort)).toEqual([]);
  });
});
