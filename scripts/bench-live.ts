#!/usr/bin/env bun
/**
 * Upload-to-live benchmark of the compiled binary (a benchmark, not a test; run it with
 * `bash scripts/bench-live.sh`, which starts Docker, builds the fixture images and dist/slipway
 * when missing). How long a one-page static site takes to be served:
 *   - through Slipway: POST the tar.gz → poll the deployment until live → first 200 with the new
 *     page through the edge; once as the first deployment of a new project, once as a redeploy of
 *     an existing one (a swap: the previous release serves until the new one is healthy);
 *   - by hand, in the same run: `docker build` of the Dockerfile Slipway generates for a static
 *     site (src/build/dockerfiles.ts, same base image, same classic builder), `docker run -d -p
 *     127.0.0.1::8080`, `docker port`, then polling until the first 200 with the new page.
 * Each run uses a fresh index.html, so no build is a pure cache hit; the variants take turns,
 * 5 runs each; prints every run, the medians and the ratios, then a markdown table for the
 * README. Takes about 1 minute.
 *
 * A/B in one sitting: SLIPWAY_BENCH_BINARY_B=<path> starts a second agent on that binary and adds
 * its first deployment and redeploy as variants of their own, taking turns with the others.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { staticDockerfile } from '../src/build/dockerfiles.ts';
import { deploymentPhases } from './bench-phases.ts';
import {
  cleanupProjectOnExit,
  docker,
  FIXTURE_IMAGES,
  fmt,
  machine,
  median,
  onCleanup,
  run,
  runBench,
  scratchDir,
  startAgent,
  tgz,
  warnIfBusyEngine,
  waitForStatus,
  type Agent,
} from './bench-lib.ts';

const RUNS = 5;
/** Another build to measure next to BINARY in the same run (A/B), if any. */
const BINARY_B = process.env.SLIPWAY_BENCH_BINARY_B;
const POLL_MS = 5;
const STATUS_POLL_MS = 10;
const LIMIT_SECONDS = process.env.SLIPWAY_BENCH_BINARY_B ? 280 : 170;
/** Upload to first 200, Slipway over by hand (issue 16). */
const GOAL = 1.15;
const BASE_IMAGE = FIXTURE_IMAGES.SLIPWAY_IMAGE_STATIC;
/** The repository of the images built by hand. */
const HAND_REPO = (runId: string) => `slipway-bench-live-${runId}`;

function page(marker: string): string {
  return `<!doctype html>\n<title>bench-live</title>\n<h1>${marker}</h1>\n`;
}

/** Polls `url` every POLL_MS until it answers 200 with a body containing `marker`. */
async function firstOk(url: string, marker: string, host?: string, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const res = await fetch(url, host ? { headers: { host } } : {});
      const body = await res.text();
      if (res.status === 200 && body.includes(marker)) return;
      last = `HTTP ${res.status}: ${body.slice(0, 100)}`;
    } catch (err) {
      last = String(err);
    }
    if (performance.now() > deadline)
      throw new Error(`${url} did not serve "${marker}" within ${timeoutMs} ms (last: ${last})`);
    await Bun.sleep(POLL_MS);
  }
}

interface Phases {
  total: number;
  /** phase name → ms */
  phases: Record<string, number>;
  /** Slipway's own phases, from the deployment log (bench-phases.ts). */
  inside?: Record<string, number>;
}

/** Slipway: upload → 202 → live → first 200 with the page through the edge. */
async function viaSlipway(agent: Agent, project: string, marker: string): Promise<Phases> {
  const body = tgz({ 'index.html': page(marker) });
  const wall0 = performance.timeOrigin + performance.now();
  const t0 = performance.now();
  const res = await agent.call('POST', `/v1/projects/${project}/deployments`, body, {
    'content-type': 'application/gzip',
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${text}`);
  const t1 = performance.now();
  const { id } = JSON.parse(text) as { id: string };
  const dep = await waitForStatus(agent, project, id, ['live', 'failed', 'canceled'], 60_000, STATUS_POLL_MS);
  if (dep.status !== 'live')
    throw new Error(`deployment ${id} of ${project} ended ${dep.status}: ${dep.failure_reason}`);
  const t2 = performance.now();
  await firstOk(`http://127.0.0.1:${agent.edgePort}/`, marker, `${project}.localhost`);
  const t3 = performance.now();
  await drained(project);
  return {
    total: t3 - t0,
    phases: { 'upload → 202': t1 - t0, '202 → live': t2 - t1, 'live → first 200': t3 - t2 },
    inside: deploymentPhases(agent.dataDir, id, wall0),
  };
}

/**
 * Waits (outside the measured time) until the swap's old instance is gone: its drain and stop run
 * in the background, and would otherwise compete with whichever variant runs next.
 */
async function drained(project: string, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const filters = ['--filter', `label=slipway.project=${project}`, '--filter', 'label=slipway.role=app'];
  while ((await docker('ps', '-aq', ...filters)).split('\n').filter(Boolean).length > 1) {
    if (performance.now() > deadline) return;
    await Bun.sleep(50);
  }
}

/** By hand: docker build, docker run, docker port, poll. */
async function byHand(scratch: string, tag: string, label: string, marker: string): Promise<Phases> {
  const ctx = join(scratch, tag.replace(/[/:]/g, '-'));
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'Dockerfile'), staticDockerfile(BASE_IMAGE));
  writeFileSync(join(ctx, 'index.html'), page(marker));
  // The classic builder, as Slipway's builds through the Engine API use.
  const env = { ...process.env, DOCKER_BUILDKIT: '0' };
  const t0 = performance.now();
  // No --label: each one is an extra builder step; the image is found by its repository at cleanup.
  const built = await run(['docker', 'build', '-q', '-t', tag, ctx], { env });
  if (built.code !== 0) throw new Error(`docker build failed: ${built.stderr}`);
  const t1 = performance.now();
  const started = await run(['docker', 'run', '-d', '--label', label, '-p', '127.0.0.1::8080', tag]);
  if (started.code !== 0) throw new Error(`docker run failed: ${started.stderr}`);
  const container = started.stdout.trim();
  const port = await run(['docker', 'port', container, '8080/tcp']);
  const hostPort = /127\.0\.0\.1:(\d+)/.exec(port.stdout)?.[1];
  if (!hostPort) throw new Error(`docker port printed "${port.stdout.trim()}" ${port.stderr}`);
  const t2 = performance.now();
  await firstOk(`http://127.0.0.1:${hostPort}/`, marker);
  const t3 = performance.now();
  return { total: t3 - t0, phases: { 'docker build': t1 - t0, 'docker run + port': t2 - t1, 'first 200': t3 - t2 } };
}

async function main(): Promise<void> {
  console.log(machine());
  const scratch = scratchDir('slipway-bench-live-');
  const runId = crypto.randomUUID().slice(0, 8);
  const label = `slipway-bench-live=${runId}`;
  onCleanup(async () => {
    const containers = (await docker('ps', '-aq', '--filter', `label=${label}`)).split('\n').filter(Boolean);
    if (containers.length) await docker('rm', '-f', '-v', ...containers);
    const images = (await docker('images', '-q', HAND_REPO(runId))).split('\n').filter(Boolean);
    if (images.length) await docker('rmi', '-f', ...new Set(images));
  });

  const agent = await startAgent();
  const redeployProject = `bench-live-${runId}`;
  cleanupProjectOnExit(redeployProject);
  await agent.json('POST', '/v1/projects', { name: redeployProject }, 201);
  // The redeploy variant needs a release to replace; this first deployment is not measured.
  await viaSlipway(agent, redeployProject, `warm-up ${runId}`);
  const projects = [redeployProject];

  const first = (on: Agent, suffix: string) => async (i: number) => {
    const project = `bench-live-${runId}${suffix}-${i}`;
    projects.push(project);
    cleanupProjectOnExit(project);
    await on.json('POST', '/v1/projects', { name: project }, 201);
    return viaSlipway(on, project, `first ${runId}${suffix} ${i}`);
  };
  const variants: Record<string, (i: number) => Promise<Phases>> = {
    first: first(agent, ''),
    redeploy: (i: number) => viaSlipway(agent, redeployProject, `redeploy ${runId} ${i}`),
    hand: (i: number) => byHand(scratch, `${HAND_REPO(runId)}:${i}`, label, `hand ${runId} ${i}`),
  };
  if (BINARY_B) {
    const agentB = await startAgent({}, BINARY_B);
    const redeployB = `bench-live-${runId}-b`;
    cleanupProjectOnExit(redeployB);
    projects.push(redeployB);
    await agentB.json('POST', '/v1/projects', { name: redeployB }, 201);
    await viaSlipway(agentB, redeployB, `warm-up ${runId} b`);
    variants['first B'] = first(agentB, '-b');
    variants['redeploy B'] = (i: number) => viaSlipway(agentB, redeployB, `redeploy ${runId} b ${i}`);
  }
  const results: Record<string, Phases[]> = Object.fromEntries(Object.keys(variants).map((v) => [v, []]));
  const names = Object.keys(variants);
  for (let i = 1; i <= RUNS; i++) {
    // Rotate the order so that no variant always runs right after the same other one.
    const order = names.map((_, k) => names[(k + i) % names.length]!);
    const line: string[] = [];
    for (const v of order) {
      const r = await variants[v]!(i);
      results[v]!.push(r);
      line.push(
        `${v} ${fmt(r.total, 0)} ms (${Object.entries(r.phases)
          .map(([k, ms]) => `${k} ${fmt(ms, 0)}`)
          .join(', ')})`,
      );
    }
    console.log(`run ${i}: ${line.join('; ')}`);
  }

  const med = (v: keyof typeof results) => median(results[v]!.map((r) => r.total));
  const medPhase = (v: keyof typeof results, phase: string) => median(results[v]!.map((r) => r.phases[phase]!));
  const hand = med('hand');
  const labels: Record<string, string> = {
    first: 'Slipway, first deployment of a new project (upload → live → first 200 via the edge)',
    redeploy: 'Slipway, redeploy of a live project (upload → live → first 200 via the edge)',
    hand: `By hand: \`docker build\` + \`docker run -d -p 127.0.0.1::8080\` + first 200`,
    'first B': `B (${BINARY_B}), first deployment of a new project`,
    'redeploy B': `B (${BINARY_B}), redeploy of a live project`,
  };
  console.log();
  for (const v of names) {
    const phases = Object.keys(results[v]![0]!.phases)
      .map((p) => `${p} ${fmt(medPhase(v, p), 0)} ms`)
      .join(', ');
    const goal = v === 'hand' ? '' : ` (goal ≤ ${GOAL}×: ${med(v) / hand <= GOAL ? 'meets' : 'misses'})`;
    console.log(`${labels[v]}: median ${fmt(med(v), 0)} ms (${phases}); ${fmt(med(v) / hand, 2)}× by hand${goal}`);
  }
  for (const v of names.filter((n) => results[n]![0]!.inside)) {
    const inside = Object.keys(results[v]![0]!.inside!)
      .map((p) => `${p} ${fmt(median(results[v]!.map((r) => r.inside![p]!)), 0)}`)
      .join(', ');
    console.log(`  ${v}, from its deployment log (medians, ms): ${inside}`);
  }
  await warnIfBusyEngine(projects, 'at the end of the run');

  console.log(
    `
| Static site (one index.html) to first 200, ${machine()} | ${results.hand!.map((_, i) => `run ${i + 1}`).join(' | ')} | median | vs by hand |
|---|${results.hand!.map(() => '---:').join('|')}|---:|---:|
${names
  .map(
    (v) =>
      `| ${labels[v]} | ${results[v]!.map((r) => `${fmt(r.total, 0)} ms`).join(' | ')} | ${fmt(med(v), 0)} ms | ${fmt(med(v) / hand, 2)}× |`,
  )
  .join('\n')}

Median phases: Slipway first deployment ${Object.keys(results.first![0]!.phases)
      .map((p) => `${p} ${fmt(medPhase('first', p), 0)} ms`)
      .join(', ')}; ` +
      `redeploy ${Object.keys(results.redeploy![0]!.phases)
        .map((p) => `${p} ${fmt(medPhase('redeploy', p), 0)} ms`)
        .join(', ')}; ` +
      `by hand ${Object.keys(results.hand![0]!.phases)
        .map((p) => `${p} ${fmt(medPhase('hand', p), 0)} ms`)
        .join(', ')}. ` +
      `Same base image (${BASE_IMAGE}) and generated Dockerfile, classic builder, a fresh index.html every run; status polled every ${STATUS_POLL_MS} ms, HTTP every ${POLL_MS} ms.
`,
  );
}

await runBench('bench-live', LIMIT_SECONDS, main);
