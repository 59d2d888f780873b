/**
 * The CLI against a real agent and the real Docker engine: `slipway deploy <dir> --follow --yes`
 * run as a process, its exit code, and the app served through the edge.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { retireAgent, startAgent, viaEdge, type Agent } from '../helpers/agent.ts';
import { requireDocker } from '../helpers/docker.ts';

const MAIN = resolve(import.meta.dir, '../../src/main.ts');
const NODE_APP = resolve(import.meta.dir, '../fixtures/node-app');
const hasDocker = await requireDocker();
let agent: Agent;
let work: string;

/** Runs `slipway <args>` as a process against the agent; stdin is not a terminal. */
async function slipway(args: string[], cwd = work): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, SLIPWAY_URL: agent.api, SLIPWAY_TOKEN: agent.token },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  if (!hasDocker) return;
  agent = await startAgent();
  work = mkdtempSync(join(tmpdir(), 'slipway-cli-e2e-'));
});
afterAll(async () => {
  if (hasDocker) await retireAgent(agent, ['cli-node', 'cli-site', 'cli-broken']);
});

describe.skipIf(!hasDocker)('slipway deploy against a running agent', () => {
  test('deploys the Node fixture directory with --follow, exits 0 and the app serves through the edge', async () => {
    const r = await slipway(['deploy', NODE_APP, '--project', 'cli-node', '--follow', '--yes']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 0,
      stderr: expect.stringContaining('Deployment #1 of cli-node is live at cli-node.localhost\n'),
    });
    expect(r.stdout).toStartWith('Deployment #1 queued (upload)\n');
    expect(r.stdout).toContain('Detected a node app');
    expect(r.stdout).toContain('Deployment #1 is live\n');
    const res = await viaEdge(agent.edgePort!, 'cli-node.localhost');
    expect({ status: res.status, body: await res.text() }).toEqual({ status: 200, body: 'v0' });
  });

  test('names the project after the directory and leaves out what .slipwayignore lists', async () => {
    const dir = join(work, 'CLI_Site');
    mkdirSync(dir);
    writeFileSync(join(dir, 'index.html'), '<h1>from the cli</h1>');
    writeFileSync(join(dir, 'secret.txt'), 'do not ship');
    writeFileSync(join(dir, '.slipwayignore'), 'secret.txt\n');
    const r = await slipway(['deploy', '--follow', '--yes'], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toStartWith(
      'Created project cli-site; it will answer at cli-site.localhost\nPacking . for project cli-site: 2 files, 32 B (honouring .slipwayignore)\n',
    );
    expect(await (await viaEdge(agent.edgePort!, 'cli-site.localhost')).text()).toBe('<h1>from the cli</h1>');
    expect((await viaEdge(agent.edgePort!, 'cli-site.localhost', '/secret.txt')).status).toBe(404);
  });

  test('a deployment that fails exits 1 with the reason', async () => {
    const dir = join(work, 'broken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM slipway-fixture/static:latest\nRUN exit 3\n');
    const r = await slipway(['deploy', dir, '--project', 'cli-broken', '--follow', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').at(-2)).toBe(
      "slipway: Deployment #1 of cli-broken failed: Dockerfile step 3/4 failed: The command '/bin/sh -c exit 3' returned a non-zero code: 3",
    );
  });

  test('the read commands show what the API holds', async () => {
    const list = await slipway(['deployments', 'list', '--project', 'cli-node', '--json']);
    expect(JSON.parse(list.stdout).map((d: { number: number; status: string }) => [d.number, d.status])).toEqual([
      [1, 'live'],
    ]);
    const status = await slipway(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/\ncli-node\s+cli-node\.localhost\s+running\s+1\s+#1 live /);
    expect(status.stdout).toMatch(/\ncli-broken\s+cli-broken\.localhost\s+running\s+1\s+#1 failed /);
    const show = await slipway(['deployments', 'show', '1', '--project', 'cli-broken']);
    expect(show.stdout).toContain(
      "\nreason:     Dockerfile step 3/4 failed: The command '/bin/sh -c exit 3' returned a non-zero code: 3\n",
    );
  });

  test('doctor finds the agent, its edge, Docker and the data directory in order', async () => {
    const api = new URL(agent.api);
    const r = await slipway([
      'doctor',
      '--api-listen',
      `127.0.0.1:${api.port}`,
      '--http-listen',
      `127.0.0.1:${agent.edgePort}`,
      '--data-dir',
      agent.dataDir,
    ]);
    expect(r.code).toBe(0);
    const marks = r.stdout
      .split('\n')
      .filter((l) => /^[✓!✗] /.test(l))
      .map((l) => l.replace(/ {2,}.*/, ''));
    expect(marks).toEqual(
      expect.arrayContaining([
        '✓ Docker engine',
        '✓ API',
        '✓ API port',
        '✓ HTTP port',
        '✓ Edge',
        '✓ Data directory',
        '✓ Clock',
      ]),
    );
    expect(r.stdout).toContain(`is held by Slipway`);
  });
});
