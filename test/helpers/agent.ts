import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Subprocess } from 'bun';

const MAIN = resolve(import.meta.dir, '../../src/main.ts');
const BUN = process.execPath;

/** Fixture base images, built by scripts/fixture-images.sh. */
export const FIXTURE_IMAGES = {
  SLIPWAY_IMAGE_STATIC: 'slipway-fixture/static:latest',
  SLIPWAY_IMAGE_NODE: 'slipway-fixture/node:latest',
  SLIPWAY_IMAGE_POSTGRES: 'slipway-fixture/postgres:latest',
};

/** A `slipway serve` process started by a test. */
export interface Agent {
  dataDir: string;
  api: string;
  edgePort: number | null;
  /** The edge's HTTPS port, when SLIPWAY_HTTPS_LISTEN is on. */
  httpsPort: number | null;
  token: string;
  proc: Subprocess;
  output(): string;
  /** Sends an API request with the admin token. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/**
 * Starts `bun src/main.ts serve` on random loopback ports; `role` splits API and edge, and `prefix`
 * wraps the command (test/helpers/users.ts's asUser runs it as another user).
 */
export async function startAgent(
  opts: {
    dataDir?: string;
    role?: 'all' | 'api' | 'edge';
    env?: Record<string, string>;
    httpPort?: number;
    prefix?: string[];
  } = {},
): Promise<Agent> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'slipway-agent-'));
  const role = opts.role ?? 'all';
  const proc = Bun.spawn([...(opts.prefix ?? []), BUN, MAIN, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      SLIPWAY_DATA_DIR: dataDir,
      SLIPWAY_API_LISTEN: '127.0.0.1:0',
      SLIPWAY_HTTP_LISTEN: `127.0.0.1:${opts.httpPort ?? 0}`,
      SLIPWAY_ROLE: role,
      SLIPWAY_RATE_LIMIT_TOKEN: '1000000',
      SLIPWAY_RECONCILE_INTERVAL: '2',
      SLIPWAY_DRAIN_TIMEOUT: '10',
      SLIPWAY_LOG_LEVEL: 'warn',
      // No test may reach a real CA: the ACME tests name their Pebble directory themselves.
      SLIPWAY_ACME_DIRECTORY: 'off',
      ...FIXTURE_IMAGES,
      ...opts.env,
    },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  let out = '';
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) out += chunk;
  };
  void collect(proc.stdout as ReadableStream<Uint8Array>);
  void collect(proc.stderr as ReadableStream<Uint8Array>);
  const deadline = Date.now() + 20_000;
  const want = role === 'edge' ? /edge listening on http:\/\/[^:]+:(\d+)/ : /API listening on http:\/\/([\d.]+:\d+)/;
  // With role all the edge's line follows the API's; its ports are read from it, so wait for both.
  const edgeLine = /[Ee]dge listening on http:\/\/\S+(?: and https:\/\/\S+)?\n/;
  while (!want.test(out) || (role === 'all' && !edgeLine.test(out))) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`agent did not start:\n${out}`);
    await Bun.sleep(25);
  }
  const api = role === 'edge' ? '' : `http://${want.exec(out)![1]}`;
  const edgeMatch = /[Ee]dge listening on http:\/\/[^:]+:(\d+)/.exec(out);
  const httpsMatch = /[Ee]dge listening on http:\/\/\S+ and https:\/\/[^:]+:(\d+)/.exec(out);
  const token = role === 'edge' ? '' : readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  return {
    dataDir,
    api,
    edgePort: edgeMatch ? Number(edgeMatch[1]) : null,
    httpsPort: httpsMatch ? Number(httpsMatch[1]) : null,
    token,
    proc,
    output: () => out,
    call: (method, path, body, headers = {}) =>
      fetch(`${api}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined && !(body instanceof Uint8Array) ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body),
      }),
    async stop(signal = 'SIGTERM') {
      proc.kill(signal);
      return await proc.exited;
    },
  };
}

/** Deletes a project through the agent, stops it, and removes what Docker still holds for the project. */
export async function retireAgent(agent: Agent, projects: string[]): Promise<void> {
  for (const p of projects) await agent.call('DELETE', `/v1/projects/${p}`).catch(() => {});
  await agent.stop();
  await removeProjectObjects(projects);
  removeDataDir(agent.dataDir);
}

/** Force-removes the containers, then the images, volumes and networks, that Docker still holds for `projects`. */
export async function removeProjectObjects(projects: string[]): Promise<void> {
  const { dockerClient } = await import('./docker.ts');
  const docker = dockerClient();
  for (const p of projects) {
    const label = [`slipway.project=${p}`];
    for (const c of await docker.listContainers({ all: true, filters: { label } }))
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {});
    for (const i of await docker.listImages({ filters: { label } }))
      await docker
        .getImage(i.Id)
        .remove({ force: true })
        .catch(() => {});
    // Release images of generated builds carry no project label: their tags name the project.
    for (const i of await docker.listImages({ filters: { reference: [`slipway/${p}`] } }))
      for (const tag of i.RepoTags ?? [])
        await docker
          .getImage(tag)
          .remove({ force: true })
          .catch(() => {});
    for (const v of (await docker.listVolumes({ filters: { label } })).Volumes ?? [])
      await docker
        .getVolume(v.Name)
        .remove()
        .catch(() => {});
    // A leaked network keeps one of the engine's few address pools: enough of them and no test can
    // create a network any more.
    for (const n of await docker.listNetworks({ filters: { label } }))
      await docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => {});
  }
}

/** Removes a data directory a test created. */
export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** GET through the edge with a Host header. */
export function viaEdge(port: number, host: string, path = '/', init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`, {
    ...init,
    headers: { ...(init.headers as Record<string, string>), host },
  });
}

/** Polls a deployment until it reaches one of `statuses`. */
export async function waitForStatus(
  agent: Agent,
  project: string,
  id: string,
  statuses: string[],
  timeoutMs = 60_000,
): Promise<{ status: string; failure_reason: string | null } & Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const dep = (await (await agent.call('GET', `/v1/projects/${project}/deployments/${id}`)).json()) as {
      status: string;
      failure_reason: string | null;
    };
    if (statuses.includes(dep.status)) return dep as never;
    if (Date.now() > deadline) {
      const log = await (await agent.call('GET', `/v1/projects/${project}/deployments/${id}/logs`)).text();
      throw new Error(
        `deployment ${id} is ${dep.status}, not ${statuses.join('/')}, after ${timeoutMs} ms\n${log}\n${agent.output()}`,
      );
    }
    await Bun.sleep(100);
  }
}
