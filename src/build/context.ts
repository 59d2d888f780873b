/**
 * The Docker build context: the stored source re-streamed as a plain tar, with the entries the
 * .dockerignore excludes left out (the engine's API does not apply it; the docker CLI normally
 * does) and the generated Dockerfile added. Nothing is extracted to disk.
 */
import ignore from '@balena/dockerignore';
import { createReadStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Extract, Header, Pack } from 'tar-stream';
import { nodeZlib, tarStream } from '../lazy-libraries.ts';
import { GENERATED_DIR, type BuildPlan } from './plan.ts';
import { Reclaimer } from '../archive/reclaim.ts';
import { inflateSmall, packedBytes, readSmallFile } from '../archive/small-file.ts';
import { withStageLabels } from './stage-labels.ts';

/**
 * Streams the stored source tar.gz as an (uncompressed) tar build context. Entries the
 * .dockerignore excludes are dropped with Docker's semantics (the Dockerfile and .dockerignore
 * themselves are kept: the engine needs them and drops them itself); a generated Dockerfile is
 * added at `plan.dockerfilePath`, a directory no upload may use; `labels` go into the Dockerfile
 * as one LABEL instruction: appended to the user's (see withLabels), before the source is copied in
 * a generated one (see withLabelsBeforeSource); `stageLabels` after each FROM but a generated one's
 * last (see withStageLabels).
 */
export function buildContext(
  sourceTarGz: string,
  plan: BuildPlan,
  labels: Record<string, string> = {},
  stageLabels: Record<string, string> = labels,
): Readable {
  const out = tarStream().pack();
  const entries = tarStream().extract();
  const file = createReadStream(sourceTarGz);
  const gunzip = nodeZlib().createGunzip();
  file.on('error', (err) => entries.destroy(err));
  gunzip.on('error', (err) => entries.destroy(err));
  file.pipe(gunzip).pipe(entries as unknown as Writable);
  // A consumer that stops reading (an aborted build) destroys `out`; stop reading the source too.
  out.on('close', () => entries.destroy());
  copyEntries(entries, plan, out, { release: labels, stages: stageLabels })
    .finally(() => file.destroy())
    .then(
      () => out.finalize(),
      (err: Error) => out.destroy(err),
    );
  // tar-stream's streams are streamx ones; callers (and dockerode) get a Node stream, whose
  // destroy() ends the iteration and so destroys the pack and stops the copy.
  return Readable.from(out);
}

/**
 * The same build context as buildContext, made in memory (archive/small-file.ts), or null when the
 * source is too large for that: read and inflated in one go and handed over as one buffer, which
 * the engine gets with its length in one write. For a small source this takes about a millisecond,
 * where the streamed context took 5–25 ms on a busy two-core host, all of it before the engine
 * could start building.
 */
export async function bufferedContext(
  sourceTarGz: string,
  plan: BuildPlan,
  labels: Record<string, string> = {},
  stageLabels: Record<string, string> = labels,
): Promise<Buffer | null> {
  const compressed = readSmallFile(sourceTarGz);
  const tar = compressed && inflateSmall(compressed);
  if (!tar) return null;
  const entries = tarStream().extract();
  entries.end(tar);
  const out = tarStream().pack();
  const packed = packedBytes(out);
  packed.catch(() => {}); // observed below, once the copy has ended
  try {
    await copyEntries(entries, plan, out, { release: labels, stages: stageLabels });
  } catch (err) {
    out.destroy(err as Error);
    throw err;
  }
  out.finalize();
  return packed;
}

/**
 * The .dockerignore the engine sees for a generated build: the user's rules plus one excluding
 * the generated directory. After reading the Dockerfile the engine removes every file the
 * .dockerignore matches, so `COPY . /www` does not ship (or serve) our Dockerfile. Without a
 * user file the new one excludes itself too, keeping the image as the upload had it.
 */
export function generatedDockerignore(userRules: string | null): string {
  return `${userRules ?? '.dockerignore'}\n${GENERATED_DIR}\n`;
}

/**
 * One `LABEL` instruction for all labels, on a line of its own. The engine's `labels` build
 * option costs one build step (and one container) per label; this costs one step in all, and as
 * the last instruction it never invalidates the cache of the steps before it.
 */
export function labelInstruction(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return pairs.length ? `\nLABEL ${pairs.join(' ')}\n` : '';
}

/**
 * A Dockerfile with the LABEL instruction appended. A file whose last line ends in a line
 * continuation would swallow the appended line into its last instruction; at the end of the file
 * that continuation continues nothing, so it is dropped first (the instruction reads the same).
 */
export function withLabels(dockerfile: string, labels: Record<string, string>): string {
  const instruction = labelInstruction(labels);
  if (!instruction) return dockerfile;
  const escapeChar = /^#\s*escape\s*=\s*([\\`])\s*$/im.exec(leadingDirectives(dockerfile))?.[1] ?? '\\';
  let body = dockerfile.replace(/\s+$/, '');
  while (body.endsWith(escapeChar)) body = body.slice(0, -1).replace(/\s+$/, '');
  return `${body}\n${instruction}`;
}

/** The parser directives block: the comment lines at the very top of a Dockerfile. */
function leadingDirectives(dockerfile: string): string {
  const lines: string[] = [];
  for (const line of dockerfile.split(/\r?\n/)) {
    if (!/^\s*#/.test(line)) break;
    lines.push(line);
  }
  return lines.join('\n');
}

/**
 * A generated Dockerfile with the LABEL instruction placed in its last stage just before the first
 * step that copies the upload (`COPY . …`, or the build stage's output): the labels a generated
 * release image carries are the same for every project of the agent (runtime/labels.ts), so once
 * the host has built that stack the engine takes the step from its cache instead of running it
 * (each step of the classic builder is a container created and committed), a new project's first
 * build included. Where no such line is found, the labels are appended.
 */
export function withLabelsBeforeSource(dockerfile: string, labels: Record<string, string>): string {
  const instruction = labelInstruction(labels);
  if (!instruction) return dockerfile;
  const lines = dockerfile.split('\n');
  const lastFrom = lines.findLastIndex((l) => /^FROM\s/i.test(l));
  const copy = lines.findIndex((l, i) => i > lastFrom && /^COPY\s+(\.\s|--from=)/i.test(l));
  if (lastFrom < 0 || copy < 0) return withLabels(dockerfile, labels);
  return [...lines.slice(0, copy), instruction.trim(), ...lines.slice(copy)].join('\n');
}

/**
 * The largest Dockerfile read into memory to append the labels to; a larger one passes through as
 * it is, and buildLabelledImage stamps the labels on in a step of its own.
 */
const MAX_DOCKERFILE_BYTES = 1024 * 1024;

/** Copies the source's entries (a tar being extracted) into the context, then adds the generated files. */
async function copyEntries(
  entries: Extract,
  plan: BuildPlan,
  out: Pack,
  { release: labels, stages }: { release: Record<string, string>; stages: Record<string, string> },
): Promise<void> {
  const keep = contextFilter(plan);
  const generated = plan.generatedDockerfile !== null;
  const reclaim = new Reclaimer();
  for await (const entry of entries) {
    const name = entry.header.name.replace(/\/+$/, '');
    if (generated && name === '.dockerignore') {
      entry.resume();
      addFile(out, '.dockerignore', generatedDockerignore(plan.dockerignore), entry.header);
    } else if (
      Object.keys(labels).length > 0 &&
      !generated &&
      name === plan.dockerfilePath &&
      entry.header.type === 'file' &&
      (entry.header.size ?? 0) <= MAX_DOCKERFILE_BYTES
    ) {
      const text = await readAll(entry as unknown as Readable);
      addFile(out, name, withLabels(withStageLabels(text, labelInstruction(stages).trim()), labels), entry.header);
    } else if (keep(name)) {
      await copyEntry(entry.header, entry as unknown as Readable, out);
      reclaim.add(entry.header.size ?? 0);
    } else {
      entry.resume();
    }
  }
  if (generated) {
    if (plan.dockerignore === null) addFile(out, '.dockerignore', generatedDockerignore(null));
    const staged = withStageLabels(plan.generatedDockerfile!, labelInstruction(stages).trim(), true);
    addFile(out, plan.dockerfilePath, withLabelsBeforeSource(staged, labels));
  }
}

/** Docker's .dockerignore semantics (case-sensitive, `!` exceptions, parent directories matching). */
function contextFilter(plan: BuildPlan): (path: string) => boolean {
  const rules = plan.dockerignore === null ? null : ignore({ ignorecase: false }).add(plan.dockerignore);
  const generated = plan.generatedDockerfile !== null;
  return (path) => {
    // Planning refused uploads with files there; an empty directory of that name is dropped too.
    if (generated && (path === GENERATED_DIR || path.startsWith(`${GENERATED_DIR}/`))) return false;
    // The engine needs both to build; it drops them from the context itself when they are excluded.
    if (path === plan.dockerfilePath || path === '.dockerignore') return true;
    return rules === null || !rules.ignores(path);
  };
}

async function copyEntry(h: Header, body: Readable, out: Pack): Promise<void> {
  const header: Partial<Header> & { name: string } = {
    name: h.name,
    type: h.type,
    mode: h.mode,
    mtime: h.mtime,
    uid: h.uid,
    gid: h.gid,
    uname: h.uname,
    gname: h.gname,
  };
  if (h.type === 'file') {
    await pipeline(body, out.entry({ ...header, size: h.size }) as unknown as Writable);
    return;
  }
  body.resume();
  out.entry(h.type === 'symlink' ? { ...header, linkname: h.linkname } : header);
}

function addFile(out: Pack, name: string, content: string, like?: Header): void {
  out.entry(
    {
      name,
      type: 'file',
      mode: 0o644,
      mtime: like?.mtime ?? new Date(0),
      uid: 0,
      gid: 0,
      uname: 'root',
      gname: 'root',
    },
    content,
  );
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
