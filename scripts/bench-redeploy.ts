#!/usr/bin/env bun
/**
 * Zero-downtime benchmark of the compiled binary (a benchmark, not a test; run it with
 * `bash scripts/bench-redeploy.sh`, which starts Docker, builds the fixture images and
 * dist/slipway when missing). Starts `dist/slipway serve` (role all, edge on a random loopback
 * port), deploys the Node fixture app (test/fixtures/node-app, 2 instances, health check
 * /health), then keeps a constant load on the edge (4 request loops with fetch, Host
 * <project>.localhost, bounded by count and time) through a few seconds of steady state and 10
 * consecutive redeploys, each with a different VERSION file, each waited on until live.
 * Prints total and failed requests (non-2xx or errors, with details), requests/s and latency
 * percentiles, and each redeploy's duration from the upload to live (and to the first response
 * of the new version), then a markdown table for the README. Takes about 1 minute.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanupProjectOnExit,
  deploymentLog,
  fmt,
  machine,
  median,
  percentile,
  ROOT,
  runBench,
  startAgent,
  tgz,
  uniqueName,
  warnIfBusyEngine,
  waitForStatus,
  type Agent,
  type DeploymentView,
} from './bench-lib.ts';

const REDEPLOYS = 10;
const CONCURRENCY = 4;
const MAX_REQUESTS = 2_000_000;
const STEADY_MS = 5000;
const TAIL_MS = 1000;
const LIMIT_SECONDS = 170;
/** The load stops by itself this long after it started, whatever happens. */
const LOAD_MAX_MS = 150_000;
const FIXTURE = join(ROOT, 'test', 'fixtures', 'node-app');

interface Sample {
  /** ms since the load started, when the request was sent */
  start: number;
  ms: number;
  ok: boolean;
  body: string;
}

/** Constant load: `concurrency` loops of sequential requests until stopped, `max` requests or `maxMs`. */
function constantLoad(url: string, host: string, concurrency: number, max: number, maxMs: number) {
  const samples: Sample[] = [];
  const failures: { at: number; what: string }[] = [];
  const t0 = performance.now();
  let running = true;
  let sent = 0;
  const loop = async () => {
    while (running && sent++ < max && performance.now() - t0 < maxMs) {
      const start = performance.now();
      try {
        const res = await fetch(url, { headers: { host } });
        const body = await res.text();
        const ok = res.status >= 200 && res.status < 300;
        samples.push({ start: start - t0, ms: performance.now() - start, ok, body });
        if (!ok) failures.push({ at: start - t0, what: `HTTP ${res.status}: ${body.slice(0, 200)}` });
      } catch (err) {
        samples.push({ start: start - t0, ms: performance.now() - start, ok: false, body: '' });
        failures.push({ at: start - t0, what: String(err) });
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    t0,
    samples,
    failures,
    async stop(): Promise<number> {
      running = false;
      await Promise.all(loops);
      return performance.now() - t0;
    },
  };
}

function fixtureFiles(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (const f of readdirSync(FIXTURE)) files[f] = readFileSync(join(FIXTURE, f));
  return files;
}

async function deploy(
  agent: Agent,
  project: string,
  version: string,
): Promise<{ dep: DeploymentView; startedAt: number; liveAt: number }> {
  // A file unique to this run keeps the COPY layer from hitting another run's build cache.
  const body = tgz({ ...fixtureFiles(), VERSION: version, '.bench-run': `${project} ${version}\n` });
  const startedAt = performance.now();
  const res = await agent.call('POST', `/v1/projects/${project}/deployments`, body, {
    'content-type': 'application/gzip',
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`upload of ${version} answered ${res.status}: ${text}`);
  const { id } = JSON.parse(text) as { id: string };
  const dep = await waitForStatus(agent, project, id, ['live', 'failed', 'canceled'], 90_000, 25);
  const liveAt = performance.now();
  if (dep.status !== 'live')
    throw new Error(
      `deployment of ${version} ended ${dep.status}: ${dep.failure_reason}\n${await deploymentLog(agent, project, id)}`,
    );
  return { dep, startedAt, liveAt };
}

function latencyStats(samples: Sample[]) {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  return { n: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms.at(-1) ?? NaN };
}

async function main(): Promise<void> {
  console.log(machine());
  const project = uniqueName('bench-redeploy');
  const host = `${project}.localhost`;
  cleanupProjectOnExit(project);
  const agent = await startAgent();
  await agent.json('POST', '/v1/projects', { name: project, instances: 2, health_check_path: '/health' }, 201);

  const first = await deploy(agent, project, 'v0');
  console.log(
    `first deploy (v0, 2 instances, nothing to replace): ${fmt((first.liveAt - first.startedAt) / 1000, 2)} s from upload to live`,
  );
  const check = await fetch(`http://127.0.0.1:${agent.edgePort}/`, { headers: { host } });
  const checkBody = await check.text();
  if (check.status !== 200 || checkBody !== 'v0')
    throw new Error(`the edge answered ${check.status} "${checkBody}" for v0`);

  const load = constantLoad(`http://127.0.0.1:${agent.edgePort}/`, host, CONCURRENCY, MAX_REQUESTS, LOAD_MAX_MS);
  await Bun.sleep(STEADY_MS);
  const rel = (t: number) => t - load.t0;
  const redeployStart = rel(performance.now());
  const runs: { version: string; number: number; startedAt: number; liveAt: number }[] = [];
  for (let i = 1; i <= REDEPLOYS; i++) {
    const version = `v${i}`;
    const { dep, startedAt, liveAt } = await deploy(agent, project, version);
    runs.push({ version, number: dep.number, startedAt: rel(startedAt), liveAt: rel(liveAt) });
    console.log(
      `redeploy ${i} (${version}, deployment #${dep.number}): ${fmt((liveAt - startedAt) / 1000, 2)} s from upload to live`,
    );
  }
  const redeployEnd = rel(performance.now());
  await Bun.sleep(TAIL_MS);
  const loadMs = await load.stop();
  if (loadMs >= LOAD_MAX_MS)
    console.log(`note: the load hit its ${LOAD_MAX_MS / 1000} s bound before the redeploys ended`);

  const samples = load.samples;
  const steady = samples.filter((s) => s.start < redeployStart);
  const during = samples.filter((s) => s.start >= redeployStart && s.start < redeployEnd);
  const all = latencyStats(samples);
  const st = latencyStats(steady);
  const du = latencyStats(during);
  const failed = samples.filter((s) => !s.ok).length;
  const failedDuring = during.filter((s) => !s.ok).length;
  const rps = samples.length / (loadMs / 1000);
  const steadyRps = steady.length / (redeployStart / 1000);
  const duringRps = during.length / ((redeployEnd - redeployStart) / 1000);

  // When each version first answered, and answers of an older version to requests sent after a
  // newer one was reported live (the edge should have switched by then).
  const versionIndex = (body: string) => (/^v(\d+)$/.exec(body) ? Number(body.slice(1)) : -1);
  const firstSeen = new Map<number, number>();
  for (const s of [...samples].sort((a, b) => a.start - b.start)) {
    const v = versionIndex(s.body);
    if (s.ok && v >= 0 && !firstSeen.has(v)) firstSeen.set(v, s.start + s.ms);
  }
  const stale: string[] = [];
  for (const s of samples) {
    if (!s.ok) continue;
    const liveBefore = runs.filter((r) => r.liveAt <= s.start).map((r) => Number(r.version.slice(1)));
    const expected = liveBefore.length ? Math.max(...liveBefore) : 0;
    if (versionIndex(s.body) < expected)
      stale.push(`request sent at ${fmt(s.start / 1000, 3)} s answered "${s.body}" after v${expected} was live`);
  }
  const bodiesInOrder = [
    ...new Set(
      [...samples]
        .sort((a, b) => a.start - b.start)
        .filter((s) => s.ok)
        .map((s) => s.body),
    ),
  ];
  const finalBody = await (await fetch(`http://127.0.0.1:${agent.edgePort}/`, { headers: { host } })).text();

  const durations = runs.map((r) => (r.liveAt - r.startedAt) / 1000);
  const toNew = runs.map((r) => {
    const seen = firstSeen.get(Number(r.version.slice(1)));
    return seen === undefined ? NaN : (seen - r.startedAt) / 1000;
  });

  console.log(`
load: ${CONCURRENCY} loops of sequential fetch() through the edge (Host ${host}), ${fmt(loadMs / 1000, 1)} s in all: ${fmt(STEADY_MS / 1000, 0)} s steady, ${fmt((redeployEnd - redeployStart) / 1000, 1)} s of ${REDEPLOYS} redeploys, ${fmt(TAIL_MS / 1000, 0)} s after
total requests: ${samples.length} (${fmt(rps, 0)} requests/s); failed: ${failed} (${failedDuring} during the redeploys)
steady state: ${steady.length} requests, ${fmt(steadyRps, 0)} requests/s, p50 ${fmt(st.p50, 2)} ms, p99 ${fmt(st.p99, 2)} ms, max ${fmt(st.max, 1)} ms
during the redeploys: ${during.length} requests, ${fmt(duringRps, 0)} requests/s, p50 ${fmt(du.p50, 2)} ms, p99 ${fmt(du.p99, 2)} ms, max ${fmt(du.max, 1)} ms
whole run: p50 ${fmt(all.p50, 2)} ms, p99 ${fmt(all.p99, 2)} ms, max ${fmt(all.max, 1)} ms
versions served, in order of first answer: ${bodiesInOrder.join(' → ')}; the edge now answers "${finalBody}"
answers from an older version after a newer one was live: ${stale.length}
redeploy upload → live: median ${fmt(median(durations), 2)} s, min ${fmt(Math.min(...durations), 2)} s, max ${fmt(Math.max(...durations), 2)} s
redeploy upload → first answer of the new version through the edge: median ${fmt(median(toNew.filter((n) => !Number.isNaN(n))), 2)} s`);
  if (load.failures.length) {
    console.log(`failures (first 20 of ${load.failures.length}; times since the load started):`);
    for (const f of load.failures.slice(0, 20)) {
      const inRun = runs.find((r) => f.at >= r.startedAt && f.at <= r.liveAt + 2000);
      console.log(
        `  ${fmt(f.at / 1000, 3)} s${inRun ? ` (during ${inRun.version}: ${fmt(inRun.startedAt / 1000, 2)}–${fmt(inRun.liveAt / 1000, 2)} s)` : ''}: ${f.what}`,
      );
    }
  }
  if (stale.length) for (const line of stale.slice(0, 10)) console.log(`  ${line}`);
  await warnIfBusyEngine([project], 'at the end of the run');
  if (finalBody !== `v${REDEPLOYS}`)
    console.log(`ANOMALY: the edge answers "${finalBody}", not v${REDEPLOYS}, after the last redeploy went live`);

  console.log(`
| ${REDEPLOYS} redeploys of a 2-instance Node app under load, ${machine()} | steady state (${fmt(STEADY_MS / 1000, 0)} s) | during the redeploys (${fmt((redeployEnd - redeployStart) / 1000, 1)} s) |
|---|---:|---:|
| Requests (${CONCURRENCY} loops of sequential \`fetch\` through the edge) | ${steady.length} | ${during.length} |
| Failed requests (non-2xx or errors) | ${steady.filter((s) => !s.ok).length} | ${failedDuring} |
| Requests/s | ${fmt(steadyRps, 0)} | ${fmt(duringRps, 0)} |
| p50 latency | ${fmt(st.p50, 2)} ms | ${fmt(du.p50, 2)} ms |
| p99 latency | ${fmt(st.p99, 2)} ms | ${fmt(du.p99, 2)} ms |
| Max latency | ${fmt(st.max, 1)} ms | ${fmt(du.max, 1)} ms |

| Redeploy | ${runs.map((r) => r.version).join(' | ')} | median |
|---|${runs.map(() => '---:').join('|')}|---:|
| Upload → live | ${durations.map((d) => `${fmt(d, 2)} s`).join(' | ')} | ${fmt(median(durations), 2)} s |
| Upload → first answer of the new version | ${toNew.map((d) => (Number.isNaN(d) ? '–' : `${fmt(d, 2)} s`)).join(' | ')} | ${fmt(median(toNew.filter((n) => !Number.isNaN(n))), 2)} s |

Whole run: ${samples.length} requests in ${fmt(loadMs / 1000, 1)} s (${fmt(rps, 0)}/s), ${failed} failed, p50 ${fmt(all.p50, 2)} ms, p99 ${fmt(all.p99, 2)} ms; load generator, agent, Docker and both app containers share the same CPUs.
`);
}

await runBench('bench-redeploy', LIMIT_SECONDS, main);
