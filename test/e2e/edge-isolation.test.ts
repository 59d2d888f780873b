/**
 * The installed layout end to end: the data directory made by the install plan, the API running as
 * the slipway user (with the docker group) and the edge as the slipway-edge user, each as its own
 * process with umask 0077, as the systemd units run them. Test uids stand in for the two users.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { removeProjectObjects, startAgent, viaEdge, waitForStatus, type Agent } from '../helpers/agent.ts';
import { tgzOf } from '../helpers/archives.ts';
import { requireDocker } from '../helpers/docker.ts';
import { INSTALLED_IDS, installedLayout } from '../helpers/installed.ts';
import { asUser, canSwitchUsers, dockerGid } from '../helpers/users.ts';

/** A project name of its own, so runs sharing one engine never touch each other's containers. */
const P = `iso-${crypto.randomUUID().slice(0, 6)}`;
const EDGE_ACCESS = `${import.meta.dir}/../install/fixtures/edge-access.ts`;

const ready = (await requireDocker()) && canSwitchUsers();
let root: string;
let dataDir: string;
let edge: Agent;
let api: Agent;

beforeAll(async () => {
  if (!ready) return;
  ({
    root,
    paths: { dataDir },
  } = await installedLayout());
  // The edge first: on a fresh install it may start before the API has published any route.
  edge = await startAgent({ dataDir, role: 'edge', prefix: asUser(INSTALLED_IDS['slipway-edge']!) });
  api = await startAgent({
    dataDir,
    role: 'api',
    prefix: asUser(INSTALLED_IDS.slipway!, INSTALLED_IDS.slipway!, [dockerGid()]),
  });
  expect((await api.call('POST', '/v1/projects', { name: P })).status).toBe(201);
});

afterAll(async () => {
  if (!ready) return;
  await api.call('DELETE', `/v1/projects/${P}`).catch(() => {});
  await api.stop();
  await edge.stop();
  await removeProjectObjects([P]);
  rmSync(root, { recursive: true, force: true });
});

async function deploy(html: string): Promise<string> {
  const body = new Uint8Array(tgzOf([{ name: 'index.html', body: html }]));
  const res = await api.call('POST', `/v1/projects/${P}/deployments`, body, { 'content-type': 'application/gzip' });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  expect((await waitForStatus(api, P, id, ['live', 'failed'])).status).toBe('live');
  return id;
}

describe.skipIf(!ready)('the API and the edge as two users, as installed', () => {
  test('deploys and swaps releases through an edge that reports back only through its state file', async () => {
    await deploy('v1');
    expect(await (await viaEdge(edge.edgePort!, `${P}.localhost`)).text()).toBe('v1');
    const second = await deploy('v2');
    expect(await (await viaEdge(edge.edgePort!, `${P}.localhost`)).text()).toBe('v2');
    // The API saw the edge apply each switch (it waits for that up to 5 s and warns when it does not).
    expect(api.output()).not.toContain('the edge did not confirm the new routes in time');
    const log = await (await api.call('GET', `/v1/projects/${P}/deployments/${second}/logs`)).text();
    expect(log).toContain('Traffic switched to');
    expect(edge.output()).not.toContain('"level":"warn"');
  });

  test("the edge's counters reach /metrics through the state file", async () => {
    for (let i = 0; i < 3; i++) await viaEdge(edge.edgePort!, `${P}.localhost`);
    await Bun.sleep(2500); // the edge reports its counters every 2 s
    const metrics = await (await api.call('GET', '/metrics')).text();
    const line = metrics
      .split('\n')
      .find((l) => l.startsWith(`slipway_edge_requests_total{project="${P}",status="2xx"}`));
    expect(Number(line?.split(' ').at(-1))).toBeGreaterThanOrEqual(5);
  });

  test("the edge's user cannot read what the API wrote, nor change the routes", () => {
    const r = Bun.spawnSync([...asUser(INSTALLED_IDS['slipway-edge']!), process.execPath, EDGE_ACCESS, dataDir]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({
      readRoutes: [{ project: P, hostnames: [] }],
      readDatabase: 'EACCES',
      readMasterKey: 'EACCES',
      readAdminToken: 'EACCES',
      listDataDir: 'EACCES',
      writeRoutes: 'EACCES',
      createInDataDir: 'EACCES',
      createInRouteStoreDir: 'EACCES',
    });
  });
});
