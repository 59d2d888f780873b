import { describe, expect, test } from 'bun:test';
import type { InstanceRow } from '../../../src/db/instances.ts';
import { KEPT_CAPABILITIES, PIDS_LIMIT } from '../../../src/runtime/instances.ts';
import { kernelHasEsp } from '../../../src/runtime/swarm/ipsec.ts';
import { releaseServiceSpec, REPLICAS_LABEL, serviceName } from '../../../src/runtime/swarm/service-spec.ts';
import {
  nodeAddress,
  parseInstanceId,
  type TaskInfo,
  toInstances,
  type NodeInfo,
} from '../../../src/runtime/swarm/tasks.ts';
import type { ReleaseSpec } from '../../../src/runtime/runtime.ts';

const spec: ReleaseSpec = {
  agentId: 'agent-1',
  project: 'web',
  projectId: 'p1',
  deploymentId: 'd1',
  number: 7,
  image: 'registry.local:5000/web@sha256:abc',
  imageTag: 'slipway/web:7-abc',
  network: 'slipway-web',
  port: 8080,
  env: { A: '1' },
  memoryMb: 256,
  cpus: 0.5,
};

describe('a release service', () => {
  const s = releaseServiceSpec('slipway-web-7-abcd1234', spec, spec.image, 3, { pinnedNode: null });
  const container = (s.TaskTemplate as { ContainerSpec: Record<string, unknown> }).ContainerSpec;

  test('runs the release with the limits of an app container', () => {
    const task = s.TaskTemplate!;
    expect(container).toMatchObject({
      Image: spec.image,
      Env: ['A=1', 'PORT=8080'],
      Init: true,
      CapabilityDrop: ['ALL'],
      CapabilityAdd: KEPT_CAPABILITIES,
    });
    expect(task.Resources!.Limits).toEqual({ MemoryBytes: 256 * 1024 * 1024, NanoCPUs: 5e8, Pids: PIDS_LIMIT });
    expect(task.Networks).toEqual([{ Target: 'slipway-web' }]);
  });

  test('spreads its replicas over the nodes and publishes in host mode on no fixed port', () => {
    expect(s.Mode).toEqual({ Replicated: { Replicas: 3 } });
    expect(s.TaskTemplate!.Placement).toEqual({ Preferences: [{ Spread: { SpreadDescriptor: 'node.id' } }] });
    expect(s.EndpointSpec!.Ports).toEqual([{ Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host' }]);
    expect(JSON.stringify(s)).not.toContain('PublishedPort');
  });

  test("carries the release's labels and remembers its replica count", () => {
    expect(s.Labels).toMatchObject({ 'slipway.project': 'web', 'slipway.role': 'app', [REPLICAS_LABEL]: '3' });
    expect(container.Labels).toMatchObject({ 'slipway.deployment': 'd1' });
  });

  test('with volumes, is pinned to the node that holds them', () => {
    const pinned = releaseServiceSpec('n', spec, spec.image, 1, { pinnedNode: 'node-a' });
    expect(pinned.TaskTemplate!.Placement).toEqual({ Constraints: ['node.id==node-a'] });
  });

  test('has a name that stays a DNS label for the longest project name', () => {
    expect(serviceName('web', 7, 'abcd1234')).toBe('slipway-web-7-abcd1234');
    const long = serviceName('a'.repeat(63), 123456, 'abcd1234');
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toEndWith('-123456-abcd1234');
  });
});

const row = (service: string, deployment: string): InstanceRow => ({
  container_id: service,
  name: `slipway-web-7-${service.padEnd(8, '0').slice(0, 8)}`,
  project_id: 'p1',
  deployment_id: deployment,
  image_id: 'img',
  created_at: '2026-01-01T00:00:00Z',
});

const task = (id: string, service: string, node: string, slot: number, state: string, port?: number): TaskInfo => ({
  ID: id,
  ServiceID: service,
  NodeID: node,
  Slot: slot,
  DesiredState: 'running',
  Status: {
    State: state,
    ContainerStatus: { ContainerID: `c-${id}` },
    PortStatus: port ? { Ports: [{ TargetPort: 8080, PublishedPort: port, PublishMode: 'host' }] } : {},
  },
});

describe("a project's instances on swarm", () => {
  const nodes = new Map<string, NodeInfo>([
    ['n1', { ID: 'n1', Status: { Addr: '0.0.0.0' }, ManagerStatus: { Addr: '10.77.0.11:2377' } }],
    ['n2', { ID: 'n2', Status: { Addr: '10.77.0.12' } }],
  ]);

  test('are its tasks in slot order, each at its node address and published port', () => {
    const listed = toInstances([row('aaaaaaaa', 'd1')], 'web', {
      services: new Set(['aaaaaaaa']),
      tasks: [task('t2', 'aaaaaaaa', 'n2', 2, 'running', 30002), task('t1', 'aaaaaaaa', 'n1', 1, 'running', 30001)],
      nodes,
      selfNode: 'n1',
    });
    expect(listed).toEqual([
      {
        id: 'aaaaaaaa/t1',
        group: 'aaaaaaaa',
        instance: '7-aaaaaaaa.1',
        deploymentId: 'd1',
        project: 'web',
        state: 'running',
        target: '10.77.0.11:30001',
        containerId: 'c-t1',
      },
      {
        id: 'aaaaaaaa/t2',
        group: 'aaaaaaaa',
        instance: '7-aaaaaaaa.2',
        deploymentId: 'd1',
        project: 'web',
        state: 'running',
        target: '10.77.0.12:30002',
        // Its container runs on another node: the manager's engine cannot read it.
        containerId: null,
      },
    ]);
  });

  test('give a task that is not running yet no target', () => {
    const [i] = toInstances([row('aaaaaaaa', 'd1')], 'web', {
      services: new Set(['aaaaaaaa']),
      tasks: [task('t1', 'aaaaaaaa', 'n2', 1, 'starting')],
      nodes,
      selfNode: 'n1',
    });
    expect(i).toMatchObject({ state: 'starting', target: null });
  });

  test('list a removed service, or one held at 0 replicas, once as missing so it is still cleaned up', () => {
    const listed = toInstances([row('gone0000', 'd1'), row('zero0000', 'd2')], 'web', {
      services: new Set(['zero0000']),
      tasks: [],
      nodes,
      selfNode: 'n1',
    });
    expect(listed.map((i) => [i.id, i.state, i.deploymentId])).toEqual([
      ['gone0000/', 'missing', 'd1'],
      ['zero0000/', 'missing', 'd2'],
    ]);
    expect(parseInstanceId(listed[0]!.id)).toEqual({ serviceId: 'gone0000', taskId: '' });
  });

  test("never take another service's tasks", () => {
    const listed = toInstances([row('aaaaaaaa', 'd1')], 'web', {
      services: new Set(['aaaaaaaa']),
      tasks: [task('t9', 'bbbbbbbb', 'n1', 1, 'running', 30009)],
      nodes,
      selfNode: 'n1',
    });
    expect(listed.map((i) => i.state)).toEqual(['missing']);
  });
});

describe('node addresses', () => {
  test("are a node's Status.Addr, or a manager's advertised address when that reads 0.0.0.0", () => {
    expect(nodeAddress({ ID: 'a', Status: { Addr: '10.0.0.5' } })).toBe('10.0.0.5');
    expect(nodeAddress({ ID: 'a', Status: { Addr: '0.0.0.0' }, ManagerStatus: { Addr: '10.0.0.6:2377' } })).toBe(
      '10.0.0.6',
    );
    expect(nodeAddress({ ID: 'a', Status: {} })).toBeNull();
  });
});

describe('overlay encryption', () => {
  test('is used only when the kernel has ESP, built in or as a module', () => {
    expect(kernelHasEsp({ config: 'CONFIG_XFRM=y\n# CONFIG_INET_ESP is not set\n', module: false })).toBe(false);
    expect(kernelHasEsp({ config: 'CONFIG_INET_ESP=m\n', module: false })).toBe(true);
    expect(kernelHasEsp({ config: null, module: true })).toBe(true);
    expect(kernelHasEsp({ config: null, module: false })).toBe(false);
  });
});
