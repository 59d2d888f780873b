#!/usr/bin/env bun
/**
 * Upload benchmark of the compiled binary (a benchmark, not a test; run it with
 * `bash scripts/bench-upload.sh`, which starts Docker, builds the fixture images and dist/slipway
 * when missing). Measures what a 1 GiB (expanded) source upload costs the agent:
 *   - generates on disk, streamed, a tar.gz of 2,048 text files of 512 KiB (pseudo-random words
 *     with a Zipf-like frequency and repeated lines, so gzip -6 compresses it about 4×, like
 *     source code) plus an index.html, 1 GiB expanded in all;
 *   - uploads it with curl (`-T file -X POST`, streamed from disk) as a raw application/gzip body
 *     to POST /v1/projects/{name}/deployments and times it until the 202, which Slipway sends
 *     once the archive is received, hashed and normalised; VmRSS of the agent is sampled every
 *     50 ms meanwhile; the queued build is canceled at once;
 *   - times `gzip -t` on the same file in the same run, as the floor for reading it at all.
 * Prints each figure with its unit, then a markdown table for the README. Takes about 40 s.
 */
import { createWriteStream, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import {
  allImageIds,
  cleanupProjectOnExit,
  fmt,
  hwmKiB,
  machine,
  MiB,
  rssKiB,
  run,
  runBench,
  scratchDir,
  tarHeader,
  startAgent,
  uniqueName,
  waitForStatus,
  type DeploymentView,
} from './bench-lib.ts';

/** Expanded MiB; BENCH_UPLOAD_MIB=256 (a multiple of 16) checks how RSS scales with the size. */
const EXPANDED_MIB = Number(process.env.BENCH_UPLOAD_MIB ?? 1024);
const FILE_BYTES = 512 * 1024;
const FILES = EXPANDED_MIB * 2;
const EXPANDED = FILES * FILE_BYTES; // 1 GiB by default, index.html included
const GZIP_LEVEL = 6; // what `gzip` and `tar czf` use by default
const SAMPLE_MS = 50;
const LIMIT_SECONDS = 170;
/** The agent's peak RSS growth while a 1 GiB (expanded) upload streams through (issue 16). */
const GOAL_GROWTH_MIB = 64;

// ---------------------------------------------------------------------------------------------
// The archive

/** xorshift32: deterministic and fast; the same archive every run. */
function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

/**
 * Fills buffers with lines of made-up words: 4,096 words of 2–10 letters drawn log-uniformly
 * (frequent short ones, a long tail, as in prose or code), indented, and 40 % of the lines
 * repeated from the 16 before them. gzip -6 gets about 4× out of it; a compression bomb it is not.
 */
function textSource(seed: number) {
  const rnd = prng(seed);
  const words: Uint8Array[] = [];
  for (let i = 0; i < 4096; i++) {
    const n = 2 + (rnd() % 9);
    const w = new Uint8Array(n + 1);
    for (let j = 0; j < n; j++) w[j] = 97 + (rnd() % 26);
    w[n] = 32;
    words.push(w);
  }
  const zipf = new Uint16Array(65536);
  for (let i = 0; i < zipf.length; i++)
    zipf[i] = Math.min(4095, Math.floor(Math.exp((i / 65536) * Math.log(4096))) - 1);
  const recent: Uint8Array[] = [];
  const repeatBelow = Math.floor(0.4 * 65536);
  const line = (): Uint8Array => {
    if (recent.length === 16 && (rnd() & 65535) < repeatBelow) return recent[rnd() & 15]!;
    const indent = 2 * (rnd() & 3);
    const picked: Uint8Array[] = [];
    let len = indent + 1;
    for (let n = 3 + (rnd() % 8); n > 0; n--) {
      const w = words[zipf[rnd() & 65535]!]!;
      picked.push(w);
      len += w.length;
    }
    const b = new Uint8Array(len).fill(32, 0, indent);
    let p = indent;
    for (const w of picked) {
      b.set(w, p);
      p += w.length;
    }
    b[len - 1] = 10;
    if (recent.length < 16) recent.push(b);
    else recent[rnd() & 15] = b;
    return b;
  };
  return (size: number): Buffer => {
    const b = Buffer.allocUnsafe(size);
    let p = 0;
    while (p < size) {
      const l = line();
      if (p + l.length > size) {
        b.fill(10, p);
        break;
      }
      b.set(l, p);
      p += l.length;
    }
    return b;
  };
}

/**
 * Writes the tar.gz to `path` chunk by chunk, waiting on the gzip stream's backpressure, so at
 * most a few hundred KiB are in memory at any time. Returns the byte counts.
 */
async function writeArchive(path: string): Promise<{ tarBytes: number; expanded: number; entries: number }> {
  const gzip = createGzip({ level: GZIP_LEVEL });
  const out = createWriteStream(path);
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
    gzip.on('error', reject);
  });
  gzip.pipe(out);
  let tarBytes = 0;
  const write = async (chunk: Buffer) => {
    tarBytes += chunk.length;
    if (!gzip.write(chunk)) await new Promise((r) => gzip.once('drain', r));
  };
  const pad = (size: number) => (512 - (size % 512)) % 512;
  const text = textSource(0x5117a7);
  let expanded = 0;
  let entries = 0;

  const index = Buffer.from('<!doctype html>\n<title>bench-upload</title>\n<h1>1 GiB of source</h1>\n');
  await write(tarHeader('index.html', index.length, 'file'));
  await write(index);
  await write(Buffer.alloc(pad(index.length)));
  expanded += index.length;
  entries++;
  const dirs = 32;
  for (let d = 0; d < dirs; d++) {
    const dir = `src/d${String(d).padStart(2, '0')}/`;
    if (d === 0) {
      await write(tarHeader('src/', 0, 'directory'));
      entries++;
    }
    await write(tarHeader(dir, 0, 'directory'));
    entries++;
    for (let f = 0; f < FILES / dirs; f++) {
      const last = d === dirs - 1 && f === FILES / dirs - 1;
      const size = last ? FILE_BYTES - index.length : FILE_BYTES; // 1 GiB exactly, index.html included
      await write(tarHeader(`${dir}file-${String(d * (FILES / dirs) + f).padStart(4, '0')}.txt`, size, 'file'));
      await write(text(size));
      await write(Buffer.alloc(pad(size)));
      expanded += size;
      entries++;
    }
  }
  await write(Buffer.alloc(1024));
  gzip.end();
  await done;
  return { tarBytes, expanded, entries };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!Number.isInteger(EXPANDED_MIB) || EXPANDED_MIB < 16 || EXPANDED_MIB % 16 !== 0 || EXPANDED_MIB > 4096) {
    throw new Error('BENCH_UPLOAD_MIB must be a multiple of 16 from 16 to 4096');
  }
  const scratch = scratchDir('slipway-bench-upload-');
  const archive = join(scratch, 'source.tar.gz');

  console.log(machine());
  let t = performance.now();
  const { tarBytes, expanded, entries } = await writeArchive(archive);
  const genMs = performance.now() - t;
  const archiveBytes = statSync(archive).size;
  if (expanded !== EXPANDED) throw new Error(`generated ${expanded} expanded bytes, not ${EXPANDED}`);
  const ratio = expanded / archiveBytes;
  console.log(
    `archive: ${fmt(archiveBytes / MiB)} MiB tar.gz (gzip -${GZIP_LEVEL}), ${entries} entries, ` +
      `${fmt(expanded / MiB)} MiB of file content (${fmt(tarBytes / MiB)} MiB as tar), ratio ${fmt(ratio, 2)}×; generated in ${fmt(genMs / 1000)} s`,
  );

  // gzip -t: read and inflate the same file, nothing else; the floor for any upload handler.
  t = performance.now();
  const gz = await run(['gzip', '-t', archive]);
  const gzipMs = performance.now() - t;
  if (gz.code !== 0) throw new Error(`gzip -t failed: ${gz.stderr}`);
  console.log(
    `gzip -t: ${fmt(gzipMs / 1000, 2)} s = ${fmt(archiveBytes / MiB / (gzipMs / 1000))} MiB/s compressed, ` +
      `${fmt(tarBytes / MiB / (gzipMs / 1000))} MiB/s expanded (tar stream)`,
  );

  const imagesBefore = await allImageIds();
  const project = uniqueName('bench-upload');
  cleanupProjectOnExit(project);
  const agent = await startAgent({
    SLIPWAY_MAX_UPLOAD_BYTES: String(2 * EXPANDED),
    SLIPWAY_MAX_EXPANDED_BYTES: String(2 * EXPANDED),
  });
  await agent.json('POST', '/v1/projects', { name: project }, 201);

  // Idle RSS once it settles (two samples 250 ms apart within 1 %, at most 5 s).
  let rssBefore = rssKiB(agent.proc.pid);
  for (let i = 0; i < 20; i++) {
    await Bun.sleep(250);
    const now = rssKiB(agent.proc.pid);
    const settled = Math.abs(now - rssBefore) / rssBefore < 0.01;
    rssBefore = now;
    if (settled) break;
  }
  const hwmBefore = hwmKiB(agent.proc.pid);
  console.log(`agent RSS before the upload: ${fmt(rssBefore / 1024)} MiB (peak so far ${fmt(hwmBefore / 1024)} MiB)`);

  // The token goes to curl in a header file, not on its command line.
  const headers = join(scratch, 'headers');
  writeFileSync(headers, `Authorization: Bearer ${agent.token}\nContent-Type: application/gzip\nExpect:\n`, {
    mode: 0o600,
  });
  const response = join(scratch, 'response.json');
  const sourcesDir = join(agent.dataDir, 'sources', project);

  const samples: { ms: number; kib: number }[] = [];
  let receivedAtMs: number | null = null;
  const t0 = performance.now();
  const sampler = setInterval(() => {
    const ms = performance.now() - t0;
    samples.push({ ms, kib: rssKiB(agent.proc.pid) });
    // The sources directory is made once the body is on disk, just before normalising starts.
    if (receivedAtMs === null && existsSync(sourcesDir)) receivedAtMs = ms;
  }, SAMPLE_MS);
  const curl = await run([
    'curl',
    '-sS',
    '-o',
    response,
    '-w',
    '%{http_code}',
    '-H',
    `@${headers}`,
    '-T',
    archive,
    '-X',
    'POST',
    `${agent.api}/v1/projects/${project}/deployments`,
  ]);
  const uploadMs = performance.now() - t0;
  clearInterval(sampler);
  samples.push({ ms: uploadMs, kib: rssKiB(agent.proc.pid) });
  const hwmAfter = hwmKiB(agent.proc.pid);
  const body = existsSync(response) ? await Bun.file(response).text() : '';
  if (curl.code !== 0 || curl.stdout !== '202') {
    throw new Error(
      `upload answered ${curl.stdout || '(nothing)'} (curl exit ${curl.code} ${curl.stderr.trim()}): ${body}\n${agent.output()}`,
    );
  }
  const dep = JSON.parse(body) as DeploymentView;

  // Cancel the build right away: the point is the upload, not building a 1 GiB image.
  const cancelStart = performance.now();
  const cancel = await agent.call('POST', `/v1/projects/${project}/deployments/${dep.id}/cancel`);
  const cancelText = await cancel.text();
  const ended = await waitForStatus(agent, project, dep.id, ['canceled', 'failed', 'live'], 60_000, 50);
  const cancelMs = performance.now() - cancelStart;

  const stored = readdirSync(sourcesDir).filter((f) => f.endsWith('.tar.gz'));
  const storedBytes = stored.reduce((sum, f) => sum + statSync(join(sourcesDir, f)).size, 0);

  const peak = samples.reduce((a, b) => (b.kib > a.kib ? b : a));
  const growthMiB = (peak.kib - rssBefore) / 1024;
  const receiveMs = receivedAtMs ?? NaN;
  const s = uploadMs / 1000;
  const compressedRate = archiveBytes / MiB / s;
  const expandedRate = expanded / MiB / s;
  const gzipS = gzipMs / 1000;

  console.log(
    `upload + normalise (curl -T, POST to 202): ${fmt(s, 2)} s = ${fmt(compressedRate)} MiB/s compressed, ${fmt(expandedRate)} MiB/s expanded` +
      (receivedAtMs !== null
        ? ` (body received after ~${fmt(receiveMs / 1000, 2)} s, normalised in the ~${fmt((uploadMs - receiveMs) / 1000, 2)} s after that)`
        : ''),
  );
  console.log(
    `agent RSS during the upload (${samples.length} samples every ${SAMPLE_MS} ms): peak ${fmt(peak.kib / 1024)} MiB at ${fmt(peak.ms / 1000, 2)} s, ` +
      `growth ${fmt(growthMiB)} MiB over the ${fmt(rssBefore / 1024)} MiB before; VmHWM ${fmt(hwmBefore / 1024)} → ${fmt(hwmAfter / 1024)} MiB; ` +
      `RSS after ${fmt(samples.at(-1)!.kib / 1024)} MiB`,
  );
  console.log(
    `agent peak RSS growth: ${fmt(growthMiB)} MiB (goal ≤ ${GOAL_GROWTH_MIB} MiB for 1 GiB: ${growthMiB <= GOAL_GROWTH_MIB ? 'meets' : 'misses'})`,
  );
  console.log(`stored normalised source: ${fmt(storedBytes / MiB)} MiB (tar.gz, gzip -1)`);
  console.log(`ratio upload / gzip -t wall time: ${fmt(uploadMs / gzipMs, 2)}×`);
  console.log(
    `cancel: answered ${cancel.status}, deployment ${ended.status} after ${fmt(cancelMs)} ms${ended.failure_reason ? ` (${ended.failure_reason})` : ''}`,
  );
  if (cancel.status !== 200) console.log(`  cancel body: ${cancelText}`);

  // Anything an aborted build left behind that the project labels will not find.
  const leftovers = [...(await allImageIds())].filter((id) => !imagesBefore.has(id));
  const ours = leftovers.length
    ? (
        await run([
          'docker',
          'image',
          'inspect',
          '--format',
          '{{.Id}} {{index .Config.Labels "slipway.project"}} {{.RepoTags}}',
          ...leftovers,
        ])
      ).stdout.trim()
    : '';
  if (ours) console.log(`images created during the run (removed at cleanup if labelled ${project}):\n${ours}`);

  console.log(`
| ${EXPANDED_MIB === 1024 ? '1 GiB' : `${EXPANDED_MIB} MiB`} source upload, ${machine()} | wall time | compressed MiB/s | expanded MiB/s | agent RSS |
|---|---:|---:|---:|---:|
| \`gzip -t\` of the same file | ${fmt(gzipS, 2)} s | ${fmt(archiveBytes / MiB / gzipS)} | ${fmt(expanded / MiB / gzipS)} | – |
| Slipway: \`curl -T\` raw \`application/gzip\` → 202 (received, hashed, normalised) | ${fmt(s, 2)} s | ${fmt(compressedRate)} | ${fmt(expandedRate)} | ${fmt(rssBefore / 1024)} MiB before, peak +${fmt(growthMiB)} MiB |
| Slipway / \`gzip -t\` | ${fmt(uploadMs / gzipMs, 2)}× | | | |

Archive: ${fmt(archiveBytes / MiB)} MiB tar.gz (gzip -${GZIP_LEVEL}) of ${entries} entries, ${fmt(expanded / MiB, 0)} MiB expanded (${fmt(ratio, 2)}×); RSS sampled every ${SAMPLE_MS} ms from /proc.
`);
}

await runBench('bench-upload', LIMIT_SECONDS, main);
