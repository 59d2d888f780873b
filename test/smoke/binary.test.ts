/**
 * Smoke test of the compiled executable: copy only `dist/slipway` into an empty directory and
 * use it the way an operator would, with no node_modules, NODE_PATH or bun on the PATH.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import pkg from '../../package.json' with { type: 'json' };
import { handshake } from '../edge/tls-helpers.ts';
import { startAcmeServers } from '../helpers/acme.ts';
import { SERVE_JIT_ENV } from '../../src/cli/jit-policy.ts';

const ROOT = join(import.meta.dir, '..', '..');
const BINARY = join(ROOT, 'dist', 'slipway');
const TOKEN = /^slw_[0-9A-Za-z]{38}$/;
const LISTENING = /API listening on http:\/\/127\.0\.0\.1:(\d+)/;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** The newest modification time of any file that goes into the binary. */
function newestSourceMtime(): number {
  const files = [
    join(ROOT, 'package.json'),
    join(ROOT, 'scripts', 'build.ts'),
    join(ROOT, 'scripts', 'lazy-requires.ts'),
  ];
  for (const entry of readdirSync(join(ROOT, 'src'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.push(join(entry.parentPath, entry.name));
  }
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

/** Runs scripts/build.ts when dist/slipway is missing or older than its sources. */
function ensureBinary(): void {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= newestSourceMtime()) return;
  const build = Bun.spawnSync([process.execPath, join(ROOT, 'scripts', 'build.ts')], { cwd: ROOT });
  if (build.exitCode !== 0) {
    throw new Error(
      `scripts/build.ts failed (exit ${build.exitCode}):\n${build.stdout.toString()}${build.stderr.toString()}`,
    );
  }
}

/**
 * The caller's environment minus whatever could let the binary lean on the repository or be
 * configured behind the test's back: NODE_PATH, node_modules/.bin on PATH, SLIPWAY_* settings,
 * BUN_* runtime switches, and the NODE_ENV that bun test sets.
 */
function isolatedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key === 'NODE_PATH' || key === 'NODE_ENV') continue;
    if (key.startsWith('SLIPWAY_') || key.startsWith('BUN_')) continue;
    env[key] = value;
  }
  const path = (process.env.PATH ?? '').split(':').filter((dir) => dir !== '' && !dir.includes('node_modules'));
  env.PATH = path.length > 0 ? path.join(':') : '/usr/local/bin:/usr/bin:/bin';
  return env;
}

/** A running `./slipway …` whose output is collected as it arrives. */
interface Running {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>;
  output: { stdout: string; stderr: string };
  /** Resolves once the process has exited and both streams have been read to the end. */
  finished: Promise<void>;
}

let workDir = '';
let tmpDir = '';
const env = isolatedEnv();
const spawned = new Set<Subprocess>();

async function collect(stream: ReadableStream<Uint8Array>, append: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) append(decoder.decode(chunk, { stream: true }));
  append(decoder.decode());
}

function start(args: string[]): Running {
  const proc = Bun.spawn(['./slipway', ...args], {
    cwd: workDir,
    env,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  spawned.add(proc);
  const output = { stdout: '', stderr: '' };
  const finished = Promise.all([
    collect(proc.stdout, (text) => (output.stdout += text)),
    collect(proc.stderr, (text) => (output.stderr += text)),
    proc.exited,
  ]).then(() => undefined);
  return { proc, output, finished };
}

/** Runs `./slipway …` to completion (killing it after 10 s) and returns its exit code and output. */
async function run(args: string[]): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const running = start(args);
  const timer = setTimeout(() => running.proc.kill('SIGKILL'), 10_000);
  await running.finished;
  clearTimeout(timer);
  return { exitCode: running.proc.exitCode, ...running.output };
}

/** Starts `./slipway serve` on a port the OS picks and resolves with its base URL once it listens. */
async function serve(): Promise<{ running: Running; url: string }> {
  const running = start(['serve', '--data-dir', './data', '--api-listen', '127.0.0.1:0']);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const match = LISTENING.exec(running.output.stdout);
    if (match) return { running, url: `http://127.0.0.1:${match[1]}` };
    if (running.proc.exitCode !== null || Date.now() > deadline) {
      running.proc.kill('SIGKILL');
      await running.finished;
      throw new Error(
        `serve did not start (exit ${running.proc.exitCode}):\n${running.output.stdout}${running.output.stderr}`,
      );
    }
    await Bun.sleep(20);
  }
}

/** Sends SIGTERM and resolves with the exit code, or "timeout" if it is still running after 5 s. */
async function terminate(running: Running): Promise<number | null | 'timeout'> {
  running.proc.kill('SIGTERM');
  const outcome = await Promise.race([
    running.finished.then(() => 'exited' as const),
    Bun.sleep(STOP_TIMEOUT_MS).then(() => 'timeout' as const),
  ]);
  return outcome === 'timeout' ? 'timeout' : running.proc.exitCode;
}

async function getJson(url: string, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json() };
}

beforeAll(() => {
  ensureBinary();
  workDir = mkdtempSync(join(tmpdir(), 'slipway-smoke-'));
  cpSync(BINARY, join(workDir, 'slipway'));
  // The binary's temporary files (SQLite's addon copy among them) go to a directory of the test's.
  tmpDir = mkdtempSync(join(tmpdir(), 'slipway-smoke-tmp-'));
  env.TMPDIR = tmpDir;
}, 180_000);

afterAll(async () => {
  for (const proc of spawned) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  await Promise.all([...spawned].map((proc) => proc.exited));
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
});

describe('the compiled binary, alone in an empty directory', () => {
  test('the directory holds nothing but the binary', () => {
    expect(readdirSync(workDir)).toEqual(['slipway']);
  });

  test('--version prints the version from package.json', async () => {
    const result = await run(['--version']);
    expect(result).toEqual({ exitCode: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  test('--help, no arguments and a mistyped command print what the CLI run from source prints', async () => {
    // The executable lists the top-level commands from an index computed at build time (src/cli/command-index.ts).
    for (const args of [['--help'], [], ['stauts']]) {
      const fromSource = Bun.spawnSync([process.execPath, join(ROOT, 'src', 'main.ts'), ...args], { cwd: workDir });
      const result = await run(args);
      expect(result.stdout).toBe(fromSource.stdout.toString());
      expect(result.stderr).toBe(fromSource.stderr.toString());
      expect(result.exitCode).toBe(fromSource.exitCode);
    }
    expect((await run(['--help'])).stdout).toContain('status [options]');
  });

  describe('serve on a fresh data directory', () => {
    let server: { running: Running; url: string };
    let adminToken = '';

    beforeAll(async () => {
      server = await serve();
      adminToken = readFileSync(join(workDir, 'data', 'admin-token'), 'utf8').trim();
    });

    test('writes a slw_ admin token to data/admin-token with mode 0600', () => {
      expect(adminToken).toMatch(TOKEN);
      expect(readFileSync(join(workDir, 'data', 'admin-token'), 'utf8')).toBe(`${adminToken}\n`);
      expect(statSync(join(workDir, 'data', 'admin-token')).mode & 0o777).toBe(0o600);
    });

    test("loads SQLite's addon from a copy in a private directory of the user's, not from inside the binary", () => {
      const dir = join(tmpDir, `slipway-${process.getuid!()}`);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      const copies = readdirSync(dir);
      expect(copies).toEqual([expect.stringMatching(/^better-sqlite3-linux-x64-\w+\.node$/)]);
      expect(statSync(join(dir, copies[0]!)).size).toBe(
        statSync(join(ROOT, 'node_modules', 'better-sqlite3', 'prebuilds', 'linux-x64.node')).size,
      );
    });

    test("runs as the process it was started as, again, with JavaScriptCore's tier-up policy for serve", () => {
      const environ = readFileSync(`/proc/${server.running.proc.pid}/environ`, 'utf8').split('\0');
      for (const [name, value] of Object.entries(SERVE_JIT_ENV)) expect(environ).toContain(`${name}=${value}`);
      expect(readFileSync(`/proc/${server.running.proc.pid}/cmdline`, 'utf8').split('\0').slice(1, 3)).toEqual([
        'serve',
        '--data-dir',
      ]);
    });

    test('prints the path of the admin token file', () => {
      expect(server.running.output.stdout).toContain('Admin token written to data/admin-token (mode 0600)\n');
    });

    test('answers GET /v1/health with 200, its status and its version', async () => {
      const { status, body } = await getJson(`${server.url}/v1/health`);
      expect(status).toBe(200);
      const health = body as { docker: { ok: boolean } };
      expect(body).toEqual({
        status: health.docker.ok ? 'ok' : 'degraded',
        version: pkg.version,
        uptime_seconds: expect.any(Number),
        database: { ok: true },
        docker: health.docker.ok
          ? { ok: true, version: expect.any(String), error: null }
          : { ok: false, version: null, error: expect.any(String) },
      });
    });

    test('answers GET /v1/me with the admin token as an admin token for every project', async () => {
      const { status, body } = await getJson(`${server.url}/v1/me`, adminToken);
      expect(status).toBe(200);
      expect(body).toEqual({ id: expect.stringMatching(/^tok_/), name: 'admin', scope: 'admin', projects: null });
    });

    test('serves the API reference and its script, an embedded file, from the binary', async () => {
      const page = await fetch(`${server.url}/docs`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('/docs/assets/scalar.js');
      const script = await fetch(`${server.url}/docs/assets/scalar.js`);
      expect(script.status).toBe(200);
      const bytes = new Uint8Array(await script.arrayBuffer());
      const original = readFileSync(
        join(import.meta.dir, '../../node_modules/@scalar/api-reference/dist/browser/standalone.js'),
      );
      expect(bytes.byteLength).toBe(original.byteLength);
      expect(Bun.hash(bytes)).toBe(Bun.hash(original));
    });

    test('answers GET /v1/me without a token with 401 in the error envelope', async () => {
      const { status, body } = await getJson(`${server.url}/v1/me`);
      expect(status).toBe(401);
      expect(body).toEqual({
        error: { code: 'unauthorized', message: expect.any(String), request_id: expect.stringMatching(/^req_/) },
      });
    });

    test('serves the console and its prebuilt script from inside the binary', async () => {
      const page = await fetch(`${server.url}/console`);
      expect(page.status).toBe(200);
      const src = /src="(\/console\/assets\/app\.js\?v=[0-9a-z]+)"/.exec(await page.text())?.[1];
      expect(src).toBeDefined();
      const script = await fetch(`${server.url}${src}`);
      expect(script.status).toBe(200);
      expect(await script.text()).toContain('/v1/sessions');
    });

    test('serves GET /llms.txt, linking the OpenAPI document', async () => {
      const res = await fetch(`${server.url}/llms.txt`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await res.text()).toContain('(/v1/openapi.json)');
    });

    test('runs `slipway mcp` on stdio: the SDK client initializes and lists the tools', async () => {
      const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
      const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
      const transport = new StdioClientTransport({
        command: join(workDir, 'slipway'),
        args: ['mcp'],
        cwd: workDir,
        env: { ...env, SLIPWAY_URL: server.url, SLIPWAY_TOKEN: adminToken } as Record<string, string>,
        stderr: 'pipe',
      });
      const client = new Client({ name: 'smoke', version: '1' });
      await client.connect(transport);
      expect(client.getServerVersion()).toEqual({ name: 'slipway', version: pkg.version });
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('deploy_directory');
      expect(names).toContain('dead_letter');
      await client.close();
    });

    test('exits with code 0 within 5 s of SIGTERM', async () => {
      expect(await terminate(server.running)).toBe(0);
    });

    test('never printed the admin token on stdout or stderr', async () => {
      await server.running.finished;
      expect(server.running.output.stdout).not.toContain(adminToken);
      expect(server.running.output.stderr).not.toContain(adminToken);
    });
  });

  describe('tokens create against the same data directory', () => {
    let minted = { exitCode: null as number | null, stdout: '', stderr: '' };

    beforeAll(async () => {
      minted = await run([
        'tokens',
        'create',
        '--name',
        'ci',
        '--scope',
        'deploy',
        '--project',
        'web',
        '--data-dir',
        './data',
      ]);
    });

    test('prints exactly one slw_ token on stdout and exits with code 0', () => {
      expect(minted.exitCode).toBe(0);
      const lines = minted.stdout.split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(TOKEN);
      expect(lines[1]).toBe('');
      expect(minted.stderr).not.toContain(lines[0]!);
    });

    test('mints a token that a newly started serve accepts as a deploy token limited to web', async () => {
      const token = minted.stdout.trim();
      const { running, url } = await serve();
      try {
        const { status, body } = await getJson(`${url}/v1/me`, token);
        expect(status).toBe(200);
        expect(body).toEqual({ id: expect.stringMatching(/^tok_/), name: 'ci', scope: 'deploy', projects: ['web'] });
      } finally {
        expect(await terminate(running)).toBe(0);
      }
      expect(running.output.stdout).not.toContain('Admin token written');
    });
  });

  test('serve with a non-numeric port exits with code 2, names the port and creates no data directory', async () => {
    const result = await run(['serve', '--data-dir', './never-created', '--api-listen', '127.0.0.1:abc']);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('--api-listen="127.0.0.1:abc": port "abc" is not a number from 0 to 65535');
    expect(existsSync(join(workDir, 'never-created'))).toBe(false);
  });

  test('orders a certificate from a real ACME CA and serves it over HTTPS (acme-client inside the binary)', async () => {
    const acme = await startAcmeServers();
    const running = start([
      'serve',
      '--data-dir',
      './acme-data',
      '--api-listen',
      '127.0.0.1:0',
      '--http-listen',
      `127.0.0.1:${acme.httpPort}`,
      '--https-listen',
      '127.0.0.1:0',
      '--acme-directory',
      acme.directoryUrl,
      '--acme-ca-file',
      acme.caFile,
      '--dns-servers',
      acme.agentDnsServer,
      '--public-ips',
      '127.0.0.1',
    ]);
    try {
      const edge = /Edge listening on http:\/\/\S+ and https:\/\/127\.0\.0\.1:(\d+)/;
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (!edge.test(running.output.stdout) || !LISTENING.test(running.output.stdout)) {
        if (running.proc.exitCode !== null || Date.now() > deadline) throw new Error(running.output.stderr);
        await Bun.sleep(20);
      }
      const url = `http://127.0.0.1:${LISTENING.exec(running.output.stdout)![1]}`;
      const httpsPort = Number(edge.exec(running.output.stdout)![1]);
      const token = readFileSync(join(workDir, 'acme-data', 'admin-token'), 'utf8').trim();
      const call = (method: string, path: string, body?: unknown) =>
        fetch(`${url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      expect((await call('POST', '/v1/projects', { name: 'web' })).status).toBe(201);
      expect((await call('POST', '/v1/projects/web/domains', { hostname: 'bin.example.test' })).status).toBe(201);
      let domain: { status: string; reason: string | null } = { status: '', reason: null };
      const until = Date.now() + 30_000;
      while (domain.status !== 'active' && domain.status !== 'failed' && Date.now() < until) {
        await Bun.sleep(200);
        domain = (await (await call('GET', '/v1/projects/web/domains/bin.example.test')).json()) as typeof domain;
      }
      expect(domain).toMatchObject({ status: 'active', reason: null });
      // No app is deployed: the edge answers 503 itself, over TLS with the issued certificate.
      const hs = await handshake(httpsPort, 'bin.example.test', await acme.rootPem());
      expect(hs.socket.getPeerX509Certificate()!.checkHost('bin.example.test')).toBe('bin.example.test');
      hs.socket.destroy();
    } finally {
      expect(await terminate(running)).toBe(0);
      await acme.stop();
    }
  }, 60_000);
});
