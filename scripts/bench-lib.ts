/**
 * Shared pieces of the Docker benchmarks (bench-upload, bench-redeploy, bench-live); not a
 * benchmark itself and never run by tests. Starts `dist/slipway serve` on random loopback ports
 * with the fixture base images, talks to its API, samples RSS, removes what a run created from
 * Docker, and bounds each run: a watchdog aborts it (after cleaning up) when it overruns.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Subprocess } from 'bun';

export const ROOT = join(import.meta.dir, '..');
/** The binary the benchmarks run: dist/slipway, or SLIPWAY_BENCH_BINARY (an A/B against another build). */
export const BINARY = process.env.SLIPWAY_BENCH_BINARY ?? join(ROOT, 'dist', 'slipway');

/** Fixture base images, built by scripts/fixture-images.sh (no registry is reachable). */
export const FIXTURE_IMAGES = {
  SLIPWAY_IMAGE_STATIC: 'slipway-fixture/static:latest',
  SLIPWAY_IMAGE_NODE: 'slipway-fixture/node:latest',
};

export const fmt = (n: number, digits = 1) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
/** Nearest-rank percentile, p in 0..100. */
export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
export const MiB = 1024 * 1024;

export function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, bun ${Bun.version}`;
}

/** A project name no other agent on this engine uses: Docker labels and tags are keyed by it. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

// ---------------------------------------------------------------------------------------------
// Cleanup and the watchdog

const cleanups: (() => Promise<void> | void)[] = [];
const lateCleanups: (() => Promise<void> | void)[] = [];
let cleaning: Promise<void> | null = null;

/**
 * Registers an undo step; they run in reverse order, once, however the run ends. `late` ones run
 * after all the others (Docker objects go once the agents that manage them have stopped).
 */
export function onCleanup(fn: () => Promise<void> | void, late = false): void {
  (late ? lateCleanups : cleanups).push(fn);
}

function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of [...cleanups.reverse(), ...lateCleanups.reverse()]) {
      try {
        await fn();
      } catch (err) {
        console.error(`cleanup: ${(err as Error).message}`);
      }
    }
  })();
  return cleaning;
}

/** A fresh temporary directory, removed at the end. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Runs `main` with a time limit; on overrun, Ctrl-C or an error, every registered cleanup still
 * runs. Exits non-zero on failure.
 */
export async function runBench(name: string, limitSeconds: number, main: () => Promise<void>): Promise<void> {
  let bailed = false;
  const bail = (why: string, code: number) => {
    bailed = true;
    console.error(`${name}: ${why}; cleaning up`);
    void runCleanups().finally(() => process.exit(code));
  };
  const watchdog = setTimeout(
    () => bail(`still running after ${limitSeconds} s (the bound of this benchmark)`, 124),
    limitSeconds * 1000,
  );
  process.on('SIGINT', () => bail('interrupted', 130));
  process.on('SIGTERM', () => bail('terminated', 143));
  let code = 0;
  try {
    await main();
  } catch (err) {
    // After an interrupt the cleanup pulls the agent away under main's feet: that error is noise.
    if (!bailed) console.error(`${name} failed: ${(err as Error).stack ?? err}`);
    code = 1;
  } finally {
    clearTimeout(watchdog);
    await runCleanups();
  }
  process.exit(code);
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Runs a command to completion; never throws on a non-zero exit. */
export async function run(
  cmd: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
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

/** `docker …`, throwing with its stderr when it fails. */
export async function docker(...args: string[]): Promise<string> {
  const r = await run(['docker', ...args]);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited with ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** VmRSS of a process, KiB. */
export function rssKiB(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** VmHWM (peak RSS since start) of a process, KiB. */
export function hwmKiB(pid: number): number {
  return statusField(pid, 'VmHWM');
}

function statusField(pid: number, field: string): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN);
}

// ---------------------------------------------------------------------------------------------
// The agent

export interface Agent {
  proc: Subprocess;
  dataDir: string;
  api: string;
  edgePort: number;
  token: string;
  output(): string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  json<T = Record<string, unknown>>(method: string, path: string, body?: unknown, want?: number): Promise<T>;
}

/**
 * Starts `dist/slipway serve` (role all) on random loopback ports with a fresh data directory;
 * resolves once it printed its API and edge addresses (`binary`: another build, for an A/B). Stopped
 * (SIGTERM, then SIGKILL) at cleanup.
 * Warns when another agent's apps run on the same engine (see warnIfBusyEngine).
 */
export async function startAgent(env: Record<string, string> = {}, binary = BINARY): Promise<Agent> {
  await warnIfBusyEngine();
  const dataDir = scratchDir('slipway-bench-data-');
  const proc = Bun.spawn([binary, 'serve'], {
    cwd: dataDir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      SLIPWAY_DATA_DIR: dataDir,
      SLIPWAY_API_LISTEN: '127.0.0.1:0',
      SLIPWAY_HTTP_LISTEN: '127.0.0.1:0',
      SLIPWAY_ROLE: 'all',
      SLIPWAY_RATE_LIMIT_TOKEN: '1000000',
      SLIPWAY_LOG_LEVEL: 'warn',
      ...FIXTURE_IMAGES,
      ...env,
    },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  onCleanup(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    await proc.exited;
    clearTimeout(timer);
  });
  let out = '';
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) out = (out + chunk).slice(-200_000);
  };
  void drain(proc.stdout as ReadableStream<Uint8Array>);
  void drain(proc.stderr as ReadableStream<Uint8Array>);
  const deadline = Date.now() + 20_000;
  const apiRe = /API listening on (http:\/\/[\d.]+:\d+)/;
  const edgeRe = /[Ee]dge listening on http:\/\/[^\s]+:(\d+)/;
  while (!apiRe.test(out) || !edgeRe.test(out)) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`slipway serve did not start:\n${out}`);
    await Bun.sleep(20);
  }
  const api = apiRe.exec(out)![1]!;
  const edgePort = Number(edgeRe.exec(out)![1]);
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && !(body instanceof Uint8Array) ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body),
    });
  return {
    proc,
    dataDir,
    api,
    edgePort,
    token,
    output: () => out,
    call,
    async json<T>(method: string, path: string, body?: unknown, want?: number): Promise<T> {
      const res = await call(method, path, body);
      const text = await res.text();
      if (want !== undefined ? res.status !== want : res.status >= 400)
        throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
      return JSON.parse(text) as T;
    },
  };
}

export interface DeploymentView {
  id: string;
  number: number;
  status: string;
  failure_reason: string | null;
}

/** Polls a deployment every `pollMs` until it reaches one of `statuses`. */
export async function waitForStatus(
  agent: Agent,
  project: string,
  id: string,
  statuses: string[],
  timeoutMs = 90_000,
  pollMs = 25,
): Promise<DeploymentView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dep = await agent.json<DeploymentView>('GET', `/v1/projects/${project}/deployments/${id}`);
    if (statuses.includes(dep.status)) return dep;
    if (Date.now() > deadline) {
      const log = await (await agent.call('GET', `/v1/projects/${project}/deployments/${id}/logs`)).text();
      throw new Error(`deployment ${id} is ${dep.status}, not ${statuses.join('/')}, after ${timeoutMs} ms\n${log}`);
    }
    await Bun.sleep(pollMs);
  }
}

/** The deployment log, for failure messages. */
export async function deploymentLog(agent: Agent, project: string, id: string): Promise<string> {
  return (await agent.call('GET', `/v1/projects/${project}/deployments/${id}/logs`)).text();
}

// ---------------------------------------------------------------------------------------------
// Docker resources

/**
 * Registers the removal of everything Slipway created for `project` (a unique name): its
 * containers, images (labelled or tagged slipway/<project>) and network, once the agent stopped.
 */
export function cleanupProjectOnExit(project: string): void {
  onCleanup(() => removeProjectResources(project), true);
}

export async function removeProjectResources(project: string): Promise<void> {
  const containers = (await docker('ps', '-aq', '--filter', `label=slipway.project=${project}`))
    .split('\n')
    .filter(Boolean);
  if (containers.length) await docker('rm', '-f', '-v', ...containers);
  const byLabel = (await docker('images', '-q', '--filter', `label=slipway.project=${project}`)).split('\n');
  const byName = (await docker('images', '-q', `slipway/${project}`)).split('\n');
  const images = [...new Set([...byLabel, ...byName].filter(Boolean))];
  if (images.length) await docker('rmi', '-f', ...images);
  const networks = (await docker('network', 'ls', '-q', '--filter', `label=slipway.project=${project}`))
    .split('\n')
    .filter(Boolean);
  if (networks.length) await docker('network', 'rm', ...networks);
}

/**
 * Slipway app containers on this engine that are not the benchmark's: another agent (a test run,
 * say) competing for the same 2 CPUs and the same engine would disturb the figures.
 */
export async function otherAgentsContainers(ours: string[] = []): Promise<string[]> {
  const out = await docker(
    'ps',
    '--filter',
    'label=slipway.managed=true',
    '--filter',
    'label=slipway.role=app',
    '--format',
    '{{.Names}} ({{.Label "slipway.project"}}, {{.Status}})',
  );
  return out.split('\n').filter((line) => line && !ours.some((p) => line.includes(`(${p},`)));
}

/** Warns when other agents' apps run on this engine: their load and deploys skew the figures. */
export async function warnIfBusyEngine(ours: string[] = [], when = 'at the start'): Promise<void> {
  const others = await otherAgentsContainers(ours);
  if (others.length === 0) return;
  console.log(
    `WARNING: ${others.length} app container(s) of another Slipway agent ran on this engine ${when} ` +
      `(a test run?); they compete for the CPUs and the engine, so the figures may be skewed:\n  ${others.slice(0, 5).join('\n  ')}`,
  );
}

/** Ids of every image (including intermediate ones), to notice leftovers of a run. */
export async function allImageIds(): Promise<Set<string>> {
  return new Set((await docker('images', '-aq', '--no-trunc')).split('\n').filter(Boolean));
}

// ---------------------------------------------------------------------------------------------
// Archives

/** A ustar header (names < 100 bytes). */
export function tarHeader(name: string, size: number, type: 'file' | 'directory'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'utf8');
  const octal = (n: number, width: number, at: number) =>
    h.write(`${n.toString(8).padStart(width - 1, '0')}\0`, at, 'latin1');
  octal(type === 'directory' ? 0o755 : 0o644, 8, 100);
  octal(1000, 8, 108);
  octal(1000, 8, 116);
  octal(size, 12, 124);
  octal(1_700_000_000, 12, 136);
  h.write('        ', 148, 'latin1');
  h.write(type === 'directory' ? '5' : '0', 156, 'latin1');
  h.write('ustar\u000000', 257, 'latin1');
  h.write('bench', 265, 'latin1');
  h.write('bench', 297, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** A small tar.gz in memory: regular files at the root. */
export function tgz(files: Record<string, string | Uint8Array>): Uint8Array {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const body = Buffer.from(content);
    blocks.push(tarHeader(name, body.length, 'file'), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return new Uint8Array(gzipSync(Buffer.concat(blocks)));
}
