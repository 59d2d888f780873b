#!/usr/bin/env bun
/**
 * Layer-cache benchmark of the compiled binary (a benchmark, not a test; run it with
 * `bash scripts/bench-layer-cache.sh`, which starts Docker, builds the fixture images and
 * dist/slipway when missing). How much a redeploy of a Node app whose dependencies did not change
 * costs next to its cold build:
 *   - the app is test/fixtures/npm-app (Express and its 60-odd packages from a lockfile), built
 *     on slipway-fixture/node-npm, whose npm installs offline from a filled cache;
 *   - each round deploys it with a package.json made unique for the round (so `npm ci` finds no
 *     cached layer: a cold build), then redeploys it REDEPLOYS times changing
 *     only a VERSION file (a code-only change), each waited on until live;
 *   - prints every deployment's build time (build_duration_ms, as Slipway measured it) and
 *     upload → live, the medians and the ratios redeploy / cold next to the goal (≤ 0.3×), then a
 *     markdown table for the README. Takes about 1 minute.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanupProjectOnExit,
  fmt,
  machine,
  median,
  ROOT,
  runBench,
  startAgent,
  tgz,
  uniqueName,
  waitForStatus,
  type Agent,
  type DeploymentView,
} from './bench-lib.ts';

const ROUNDS = 2;
const REDEPLOYS = 3;
const GOAL = 0.3;
const LIMIT_SECONDS = 400;
const NODE_NPM_IMAGE = 'slipway-fixture/node-npm:latest';
const APP = join(ROOT, 'test/fixtures/npm-app');

interface Measured {
  buildMs: number;
  liveMs: number;
}

/** The fixture app with a package.json unique to `round` and the given VERSION. */
function appSource(round: string, version: string): Uint8Array {
  const pkg = JSON.parse(readFileSync(join(APP, 'package.json'), 'utf8')) as Record<string, unknown>;
  return tgz({
    'package.json': JSON.stringify({ ...pkg, description: `bench-layer-cache ${round}` }, null, 2),
    'package-lock.json': readFileSync(join(APP, 'package-lock.json')),
    'server.js': readFileSync(join(APP, 'server.js')),
    VERSION: version,
  });
}

/** Uploads, waits until live, and checks the new version answers through the edge. */
async function deploy(agent: Agent, project: string, body: Uint8Array, version: string): Promise<Measured> {
  const t0 = performance.now();
  const res = await agent.call('POST', `/v1/projects/${project}/deployments`, body, {
    'content-type': 'application/gzip',
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${text}`);
  const { id } = JSON.parse(text) as { id: string };
  const dep = await waitForStatus(agent, project, id, ['live', 'failed', 'canceled'], 180_000, 20);
  const liveMs = performance.now() - t0;
  if (dep.status !== 'live') throw new Error(`deployment ${id} ended ${dep.status}: ${dep.failure_reason}`);
  const view = await agent.json<DeploymentView & { build_duration_ms: number }>(
    'GET',
    `/v1/projects/${project}/deployments/${id}`,
  );
  const page = await fetch(`http://127.0.0.1:${agent.edgePort}/`, { headers: { host: `${project}.localhost` } });
  const served = await page.text();
  if (!served.startsWith(`${version} express`)) throw new Error(`the edge served "${served.trim()}", not ${version}`);
  return { buildMs: view.build_duration_ms, liveMs };
}

async function main(): Promise<void> {
  console.log(machine());
  const agent = await startAgent({ SLIPWAY_IMAGE_NODE: NODE_NPM_IMAGE });
  const cold: Measured[] = [];
  const warm: Measured[] = [];
  // One project for all rounds: the cold builds come from each round's unique package.json.
  const project = uniqueName('bench-cache');
  cleanupProjectOnExit(project);
  await agent.json('POST', '/v1/projects', { name: project, health_check_path: '/health' }, 201);
  for (let r = 1; r <= ROUNDS; r++) {
    const round = `${project}-${crypto.randomUUID()}`;
    const first = await deploy(agent, project, appSource(round, 'v1'), 'v1');
    cold.push(first);
    const line = [`cold build ${fmt(first.buildMs, 0)} ms (live after ${fmt(first.liveMs, 0)} ms)`];
    for (let i = 2; i <= REDEPLOYS + 1; i++) {
      const m = await deploy(agent, project, appSource(round, `v${i}`), `v${i}`);
      warm.push(m);
      line.push(`redeploy ${fmt(m.buildMs, 0)} ms (live ${fmt(m.liveMs, 0)} ms)`);
    }
    console.log(`round ${r}: ${line.join('; ')}`);
  }

  const med = (xs: Measured[], k: keyof Measured) => median(xs.map((m) => m[k]));
  const buildRatio = med(warm, 'buildMs') / med(cold, 'buildMs');
  const liveRatio = med(warm, 'liveMs') / med(cold, 'liveMs');
  const verdict = (ratio: number) => (ratio <= GOAL ? 'meets' : 'misses');
  console.log();
  console.log(
    `build: cold median ${fmt(med(cold, 'buildMs'), 0)} ms, code-only redeploy median ${fmt(med(warm, 'buildMs'), 0)} ms: ` +
      `${fmt(buildRatio, 2)}× (goal ≤ ${GOAL}×: ${verdict(buildRatio)})`,
  );
  console.log(
    `upload → live: cold median ${fmt(med(cold, 'liveMs'), 0)} ms, code-only redeploy median ${fmt(med(warm, 'liveMs'), 0)} ms: ` +
      `${fmt(liveRatio, 2)}× (goal ≤ ${GOAL}×: ${verdict(liveRatio)})`,
  );
  console.log(`
| Node app (Express, ${readFileSync(join(APP, 'package-lock.json'), 'utf8').match(/"node_modules\//g)?.length} packages), ${machine()} | cold build | code-only redeploy | redeploy / cold | goal |
|---|---:|---:|---:|---:|
| image build (Slipway's build_duration_ms), median | ${fmt(med(cold, 'buildMs'), 0)} ms | ${fmt(med(warm, 'buildMs'), 0)} ms | ${fmt(buildRatio, 2)}× | ≤ ${GOAL}× |
| upload → live, median | ${fmt(med(cold, 'liveMs'), 0)} ms | ${fmt(med(warm, 'liveMs'), 0)} ms | ${fmt(liveRatio, 2)}× | ≤ ${GOAL}× |

${ROUNDS} cold builds (a package.json unique to the round, so \`npm ci\` runs), ${REDEPLOYS} redeploys after each changing only a VERSION file; npm installs offline from ${NODE_NPM_IMAGE}'s cache.
`);
}

await runBench('bench-layer-cache', LIMIT_SECONDS, main);
