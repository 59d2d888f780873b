import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type Docker from 'dockerode';
import { runCommand } from '../../src/databases/exec.ts';
import { provisionDatabase } from '../../src/databases/provision.ts';
import type { DatabaseInfo } from '../../src/databases/spec.ts';
import { networkName } from '../../src/runtime/network.ts';
import { tarOf } from '../helpers/archives.ts';
import type { DatabaseRef } from '../../src/databases/inspect.ts';

export const PG_IMAGE = 'slipway-fixture/postgres:latest';
export const NODE_IMAGE = 'slipway-fixture/node:latest';
const PG_APP = resolve(import.meta.dir, '../fixtures/pg-app');

/** A test's own agent id, labels and project names; everything it creates carries the labels. */
export interface Scope {
  agentId: string;
  labels: Record<string, string>;
  /** How these tests find a database they provisioned themselves: by its name (no recorded id). */
  ref: DatabaseRef;
}

/** A scope for `agentId`, its objects labelled with `labels`. */
export function scopeOf(agentId: string, labels: Record<string, string>): Scope {
  return { agentId, labels, ref: { agentId, containerId: null, imageId: null } };
}

/** A project name no other test uses (a DNS label). */
export function uniqueProject(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A password with characters that need URL-encoding, as a real generated one might have. */
export function awkwardPassword(): string {
  return `p@ss:/?#%'"\\ ${randomBytes(12).toString('base64url')}`;
}

/** Creates the project's network the way Slipway names it, labelled for cleanup. */
export async function createProjectNetwork(docker: Docker, scope: Scope, project: string): Promise<string> {
  const name = networkName(project);
  await docker.createNetwork({ Name: name, Driver: 'bridge', Labels: { ...scope.labels, 'slipway.project': project } });
  return name;
}

/** Provisions a database on a fresh project network with the fixture image. */
export async function provisionForTest(
  docker: Docker,
  scope: Scope,
  project: string,
  password: string,
): Promise<DatabaseInfo> {
  const network = await createProjectNetwork(docker, scope, project);
  return provisionDatabase(
    docker,
    { agentId: scope.agentId, project, image: PG_IMAGE, network, password, labels: scope.labels },
    { timeoutMs: 60_000 },
  );
}

/**
 * Runs SQL through psql in the database container (local socket) and returns its unaligned output;
 * as the app's role unless `as` names another.
 */
export async function psql(docker: Docker, info: DatabaseInfo, sql: string, as = info.user): Promise<string> {
  const result = await runCommand(
    docker,
    info.containerId!,
    ['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-U', as, '-d', info.database, '-c', sql],
    {
      user: 'postgres',
    },
  );
  if (result.exitCode !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** Runs SQL as the app does: over TCP with a password. Never throws for a failed statement. */
export function psqlOverTcp(
  docker: Docker,
  info: DatabaseInfo,
  login: { user: string; password: string },
  sql: string,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return runCommand(
    docker,
    info.containerId!,
    [
      'psql',
      '-X',
      '-q',
      '-A',
      '-t',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      '127.0.0.1',
      '-U',
      login.user,
      '-d',
      info.database,
      '-c',
      sql,
    ],
    { user: 'postgres', env: [`PGPASSWORD=${login.password}`, 'PGCONNECT_TIMEOUT=5'] },
  );
}

/** Starts test/fixtures/pg-app on `network` with DATABASE_URL, published on 127.0.0.1; resolves with its base URL once /health answers. */
export async function startPgApp(docker: Docker, scope: Scope, network: string, databaseUrl: string): Promise<string> {
  const container = await docker.createContainer({
    Image: NODE_IMAGE,
    Cmd: ['node', 'server.js'],
    Env: ['PORT=8080', `DATABASE_URL=${databaseUrl}`],
    Labels: scope.labels,
    ExposedPorts: { '8080/tcp': {} },
    HostConfig: { NetworkMode: network, PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  const files = ['server.js', 'package.json'].map((name) => ({
    name: `app/${name}`,
    body: readFileSync(resolve(PG_APP, name)),
  }));
  await container.putArchive(tarOf(files), { path: '/' });
  await container.start();
  const info = await container.inspect();
  const base = `http://127.0.0.1:${info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort}`;
  for (const deadline = Date.now() + 10_000; ; await Bun.sleep(100)) {
    try {
      if ((await fetch(`${base}/health`)).ok) return base;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}

/** What a container on `network` sees when it resolves `name` and connects to `address`:5432. */
export interface Reachability {
  dns: string;
  tcp: string;
}

// Runs in the node fixture image: a name lookup and a TCP connect, each with its own deadline.
const PROBE = `
const dns = require('node:dns'), net = require('node:net');
const [name, address] = process.argv.slice(1);
const within = (ms, p) => Promise.race([p, new Promise((r) => setTimeout(() => r('timeout'), ms))]);
const lookup = dns.promises.lookup(name).then((a) => 'resolved ' + a.address, (e) => 'error ' + e.code);
const connect = new Promise((r) => {
  const s = net.connect(5432, address, () => { s.destroy(); r('connected'); });
  s.on('error', (e) => r('error ' + e.code));
});
Promise.all([within(8000, lookup), within(3000, connect)]).then(([dns, tcp]) => {
  console.log(JSON.stringify({ dns, tcp }));
  process.exit(0);
});
`;

/** Probes reachability from a short-lived container on `network`. */
export async function probeFrom(
  docker: Docker,
  scope: Scope,
  network: string,
  name: string,
  address: string,
): Promise<Reachability> {
  const container = await docker.createContainer({
    Image: NODE_IMAGE,
    Cmd: ['node', '-e', PROBE, name, address],
    Labels: scope.labels,
    HostConfig: { NetworkMode: network },
  });
  await container.start();
  await container.wait();
  const logs = (await container.logs({ stdout: true, stderr: true })) as Buffer;
  // Non-TTY logs are framed; the JSON line is the last stdout line.
  const text = logs.toString('utf8');
  const line = text.slice(text.indexOf('{"dns"'), text.lastIndexOf('}') + 1);
  return JSON.parse(line) as Reachability;
}

/** Reads a stream to the end into one buffer (test-sized data only). */
export async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}
