/**
 * GET /v1/nodes and `slipway nodes` on one Docker engine (the default test engine): one node of
 * role "standalone", with this agent's app and database containers of the token's projects.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type Docker from 'dockerode';
import { appLabels, databaseLabels } from '../../src/runtime/labels.ts';
import { agentId } from '../../src/db/meta.ts';
import type { NodeView } from '../../src/nodes/view.ts';
import { cleanupByLabel, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';
import { errorOf, makeTestApp, TEST_ACTOR, type TestApp } from '../helpers/app.ts';
import { fakeAgent, runCli } from '../cli/harness.ts';

const IMAGE = 'slipway-fixture/static:latest';

describe.skipIf(!(await requireDocker()))('the nodes of one engine', () => {
  let t: TestApp;
  let docker: Docker;
  const label = testLabel();
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    docker = dockerClient();
    t = makeTestApp({}, { docker });
    for (const name of ['alpha', 'beta']) t.deps.projects.create(TEST_ACTOR, { name });
    const agent = agentId(t.deps.db);
    const create = async (key: string, labels: Record<string, string>) => {
      const c = await docker.createContainer({ Image: IMAGE, Cmd: ['true'], Labels: { ...labels, ...label } });
      ids[key] = c.id;
    };
    await create('alpha-app', appLabels(agent, { project: 'alpha', id: 'dep_alpha1', number: 1 }));
    await create('alpha-db', databaseLabels(agent, 'alpha', { user: 'app', database: 'app', superuser: 'postgres' }));
    await create('beta-app', appLabels(agent, { project: 'beta', id: 'dep_beta1', number: 1 }));
    // Another agent's container on the same engine, and an unlabelled one: neither is this agent's.
    await create('other-agent', appLabels('agt_someone_else', { project: 'alpha', id: 'dep_x', number: 1 }));
  });

  afterAll(async () => {
    await cleanupByLabel(docker, label['slipway.test']);
    t?.close();
  });

  const nodesAs = async (token?: string): Promise<NodeView[]> => {
    const res = await t.req('GET', '/v1/nodes', { token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      data: NodeView[];
      pagination: { next_cursor: string | null; has_more: boolean };
    };
    expect(body.pagination).toEqual({ next_cursor: null, has_more: false });
    return body.data;
  };

  test('lists the engine as one standalone node with its resources and version', async () => {
    const info = await docker.info();
    const [node, ...rest] = await nodesAs();
    expect(rest).toEqual([]);
    expect(node).toMatchObject({
      id: info.ID,
      hostname: info.Name,
      role: 'standalone',
      leader: false,
      availability: 'active',
      state: 'ready',
      address: null,
      engine_version: info.ServerVersion,
      resources: { cpus: info.NCPU, memory_bytes: info.MemTotal },
    });
    expect(node!.resources.cpus).toBeGreaterThan(0);
  });

  test("shows this agent's app and database containers, never another agent's", async () => {
    const [node] = await nodesAs();
    const mine = node!.tasks.filter((task) => Object.values(ids).includes(task.id));
    expect(mine.map((task) => [task.project, task.role, task.release, task.state]).sort()).toEqual([
      ['alpha', 'app', 'dep_alpha1', 'created'],
      ['alpha', 'database', null, 'created'],
      ['beta', 'app', 'dep_beta1', 'created'],
    ]);
    expect(node!.tasks.some((task) => task.id === ids['other-agent'])).toBe(false);
  });

  test("a project-limited token sees the node but not another project's tasks", async () => {
    const alphaOnly = t.token({ name: 'alpha-reader', scope: 'read', projects: ['alpha'] });
    const [node] = await nodesAs(alphaOnly);
    expect(node!.role).toBe('standalone');
    expect(node!.tasks.length).toBeGreaterThan(0);
    expect(node!.tasks.every((task) => task.project === 'alpha')).toBe(true);
    expect(node!.tasks.some((task) => task.id === ids['beta-app'])).toBe(false);
  });

  test('refuses a request without a token, and a cursor from another list', async () => {
    const anonymous = await t.req('GET', '/v1/nodes', { token: null });
    expect(anonymous.status).toBe(401);
    expect((await errorOf(anonymous)).code).toBe('unauthorized');
    const tokens = (await (await t.req('GET', '/v1/tokens?limit=1')).json()) as { pagination: { next_cursor: string } };
    const foreign = await t.req('GET', `/v1/nodes?cursor=${tokens.pagination.next_cursor}`);
    expect(foreign.status).toBe(400);
    expect((await errorOf(foreign)).message).toBe('Invalid cursor: it belongs to another list');
  });

  test('answers 503 in the envelope when the engine does not', async () => {
    const { default: Docker } = await import('dockerode');
    const away = makeTestApp({}, { docker: new Docker({ socketPath: '/nonexistent/docker.sock' }) });
    try {
      const res = await away.req('GET', '/v1/nodes');
      expect(res.status).toBe(503);
      expect((await errorOf(res)).message).toStartWith('Cannot list the nodes: the Docker engine did not answer');
    } finally {
      away.close();
    }
  });

  test('on the swarm runtime, an engine that manages no swarm is a 503 that says so', async () => {
    const plain = makeTestApp({ SLIPWAY_RUNTIME: 'swarm' }, { docker });
    try {
      const res = await plain.req('GET', '/v1/nodes');
      expect(res.status).toBe(503);
      expect((await errorOf(res)).message).toMatch(/^Cannot list the nodes: .*swarm manager/);
    } finally {
      plain.close();
    }
  });

  test('is in the OpenAPI document with its 200 schema and read access', async () => {
    const spec = (await (await t.req('GET', '/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const op = spec.paths['/v1/nodes']?.get;
    expect(op?.['x-slipway-access']).toEqual({ scope: 'read', project: 'filter' });
    const ok = (op?.responses ?? {}) as Record<string, { content: Record<string, { schema: unknown }> }>;
    expect(JSON.stringify(ok['200']?.content['application/json']?.schema)).toContain('engine_version');
  });

  test('slipway nodes prints the node as a table row, and --json the list', async () => {
    const reader = t.token({ name: 'cli-reader', scope: 'read', projects: ['beta'] });
    const agent = fakeAgent({
      'GET /v1/nodes': (req, url) =>
        t.app.handle(new Request(`http://localhost${url.pathname}${url.search}`, { headers: req.headers })),
    });
    try {
      const env = { ...agent.env, SLIPWAY_TOKEN: reader };
      const table = await runCli(['nodes'], { env });
      expect(table.code).toBe(0);
      const [head, row] = table.stdout.trim().split('\n');
      expect(head!.split(/\s+/)).toEqual([
        'ID',
        'HOSTNAME',
        'ROLE',
        'AVAILABILITY',
        'STATE',
        'ADDRESS',
        'ENGINE',
        'CPUS',
        'MEMORY',
        'TASKS',
      ]);
      expect(row).toContain('standalone');
      expect(row).toMatch(/beta 1 \(1 created\)$/);
      const json = await runCli(['nodes', '--json'], { env });
      const list = JSON.parse(json.stdout) as NodeView[];
      expect(list[0]!.tasks.every((task) => task.project === 'beta')).toBe(true);
    } finally {
      agent.stop();
    }
  });
});
