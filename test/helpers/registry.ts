/**
 * A private image registry for tests: Debian's docker-registry (scripts/ensure-registry.sh installs
 * it) on a loopback port with basic auth from an htpasswd file, storing in a temporary directory.
 * The engine pulls from 127.0.0.0/8 over plain HTTP, which Docker allows by default.
 */
import { type Subprocess, spawn } from 'bun';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';

/** A running registry and how to reach it. */
export interface TestRegistry {
  /** `127.0.0.1:<port>`, the host part of image references. */
  host: string;
  username: string;
  password: string;
  /** Pushes the local image `local` as `<host>/<repository>` with the registry's credentials. */
  push(docker: Docker, local: string, repository: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a registry with one user; resolves once it answers /v2/ (with 401: auth is on). */
export async function startRegistry(): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const username = 'ci-puller';
  const password = `pw-${crypto.randomUUID()}`;
  writeFileSync(
    join(dir, 'htpasswd'),
    `${username}:${Bun.password.hashSync(password, { algorithm: 'bcrypt', cost: 4 })}\n`,
  );
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: error, accesslog: { disabled: true } }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} } }`,
      `http: { addr: ${host} }`,
      `auth: { htpasswd: { realm: slipway-test, path: ${join(dir, 'htpasswd')} } }`,
      '',
    ].join('\n'),
  );
  const proc: Subprocess = spawn(['docker-registry', 'serve', join(dir, 'config.yml')], {
    stdout: 'ignore',
    stderr: 'pipe',
  });
  await waitAnswering(host, proc);
  return {
    host,
    username,
    password,
    async push(docker, local, repository) {
      const [repo, tag] = repository.split(':') as [string, string];
      await docker.getImage(local).tag({ repo: `${host}/${repo}`, tag });
      const stream = await docker
        .getImage(`${host}/${repository}`)
        .push({ authconfig: { username, password, serveraddress: host } } as never);
      const output = await readAll(stream as unknown as NodeJS.ReadableStream);
      await docker.getImage(`${host}/${repository}`).remove({ noprune: true });
      if (/"error"/.test(output)) throw new Error(`push of ${repository} failed: ${output.slice(-500)}`);
    },
    async stop() {
      proc.kill();
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitAnswering(host: string, proc: Subprocess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) {
      const err = await new Response(proc.stderr as ReadableStream).text();
      throw new Error(`docker-registry exited (${proc.exitCode}): ${err.slice(-800)}`);
    }
    const status = await fetch(`http://${host}/v2/`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 401) return;
    await Bun.sleep(50);
  }
  proc.kill();
  throw new Error(`docker-registry did not answer on ${host} within 20 s`);
}

/** Everything a Node stream sends, as text. */
export function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
}

/** Builds an image from a Dockerfile (and files) as `tag`, labelled `labels`; rejects when the build fails. */
export async function buildTestImage(
  docker: Docker,
  tag: string,
  files: Record<string, string>,
  labels: Record<string, string>,
): Promise<void> {
  const { pack } = await import('tar-stream');
  const tar = pack();
  for (const [name, body] of Object.entries(files)) tar.entry({ name }, body);
  tar.finalize();
  const stream = await docker.buildImage(tar as never, { t: tag, labels, rm: true, forcerm: true });
  const output = await readAll(stream);
  if (/"error"/.test(output)) throw new Error(`build of ${tag} failed: ${output.slice(-500)}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
