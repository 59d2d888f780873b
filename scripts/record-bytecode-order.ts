#!/usr/bin/env bun
/**
 * Records the bytecode layout profiles `bun scripts/build.ts` lays the executable out by
 * (`bytecodeOrder`, Bun's profile-guided layout for `--bytecode`): runs dist/slipway as an edge of
 * its own, as the whole agent and as the CLI (`slipway status` against that agent), on a scratch
 * data directory and loopback ports, with BUN_BYTECODE_ORDER_OUT set, sends each a few requests,
 * stops it and keeps the profile it wrote on exit. Functions are matched by a hash of their syntax, so a profile keeps applying as the code
 * changes (changed functions are placed after the recorded ones); re-record after large changes
 * with `bun scripts/build.ts && bun scripts/record-bytecode-order.ts && bun scripts/build.ts`.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dir, '..');
const OUTFILE = join(ROOT, 'dist', 'slipway');
/** Where scripts/build.ts reads the profiles from, the edge's first (the agent's start includes most of it). */
const BYTECODE_ORDER_FILES = {
  edge: join(ROOT, 'scripts', 'bytecode-order', 'edge.order'),
  serve: join(ROOT, 'scripts', 'bytecode-order', 'serve.order'),
  cli: join(ROOT, 'scripts', 'bytecode-order', 'cli.order'),
};

const scratch = mkdtempSync(join(tmpdir(), 'slipway-order-'));

/** A TCP port that was free a moment ago. */
function freePort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** Polls `url` until it answers `status` (any status when omitted). */
async function waitFor(url: string, status?: number): Promise<void> {
  const since = performance.now();
  for (;;) {
    const res = await fetch(url).catch(() => null);
    await res?.arrayBuffer();
    if (res && (status === undefined || res.status === status)) return;
    if (performance.now() - since > 20_000) throw new Error(`No answer from ${url} within 20 s`);
    await Bun.sleep(20);
  }
}

/** Runs the binary with `args` while `exercise` sends it requests; returns the profile it wrote. */
async function record(name: string, args: string[], exercise: () => Promise<void>): Promise<string> {
  const out = join(scratch, `${name}.order`);
  const proc = Bun.spawn([OUTFILE, ...args], {
    cwd: scratch,
    env: { ...process.env, BUN_BYTECODE_ORDER_OUT: out },
    stdout: 'ignore',
    stderr: 'pipe',
  });
  try {
    await exercise();
    // A second of idleness: the background loops' first passes belong to a start too.
    await Bun.sleep(1000);
  } finally {
    proc.kill('SIGTERM');
  }
  const code = await proc.exited;
  if (code !== 0 || !existsSync(out))
    throw new Error(`${name}: exit ${code}, no profile written\n${await new Response(proc.stderr).text()}`);
  return out;
}

const dataDir = join(scratch, 'data');
const api = `http://127.0.0.1:${freePort()}`;
const http = `http://127.0.0.1:${freePort()}`;
const listen = (url: string) => url.slice('http://'.length);

const cliProfile = join(scratch, 'cli.order');
const serveProfile = await record(
  'serve',
  ['serve', '--data-dir', dataDir, '--api-listen', listen(api), '--http-listen', listen(http)],
  async () => {
    await waitFor(`${api}/v1/health`, 200);
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    await (await fetch(`${api}/v1/projects`, { method: 'POST', headers, body: '{"name":"web"}' })).arrayBuffer();
    for (const path of ['/v1/me', '/v1/projects', '/v1/projects/web', '/v1/projects/web/deployments'])
      await (await fetch(`${api}${path}`, { headers })).arrayBuffer();
    await (await fetch(http, { headers: { host: 'web.localhost' } })).arrayBuffer();
    // The CLI against this agent: `status` builds the command tree and calls the API.
    const cli = Bun.spawnSync([OUTFILE, 'status'], {
      cwd: scratch,
      env: { ...process.env, SLIPWAY_URL: api, SLIPWAY_TOKEN: token, BUN_BYTECODE_ORDER_OUT: cliProfile },
      stdout: 'ignore',
      stderr: 'pipe',
    });
    if (cli.exitCode !== 0 || !existsSync(cliProfile))
      throw new Error(`slipway status: exit ${cli.exitCode}\n${cli.stderr}`);
  },
);
// The edge reads the route store the agent above wrote, as it does when installed.
const edgeProfile = await record(
  'edge',
  ['serve', '--role', 'edge', '--data-dir', dataDir, '--http-listen', listen(http)],
  async () => {
    await waitFor(http);
    for (let i = 0; i < 3; i++) await (await fetch(http, { headers: { host: 'web.localhost' } })).arrayBuffer();
  },
);

mkdirSync(join(ROOT, 'scripts', 'bytecode-order'), { recursive: true });
copyFileSync(edgeProfile, BYTECODE_ORDER_FILES.edge);
copyFileSync(serveProfile, BYTECODE_ORDER_FILES.serve);
copyFileSync(cliProfile, BYTECODE_ORDER_FILES.cli);
rmSync(scratch, { recursive: true, force: true });
console.log(`record-bytecode-order: wrote ${Object.values(BYTECODE_ORDER_FILES).join(', ')}; build again to use them`);
