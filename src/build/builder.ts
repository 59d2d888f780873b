/**
 * Image builds through the engine's classic builder. The response is read as it arrives, so the
 * deployment log shows each step while it runs; a timeout or cancel closes the request, which
 * is how the classic builder is told to stop (it has no cancel endpoint).
 */
import type Docker from 'dockerode';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import {
  BuildCanceled,
  BuildError,
  BuildIncomplete,
  BuildProcessLimit,
  BuildTimedOut,
} from '../deployments/failures.ts';
import { buildGate } from './build-gate.ts';
import { stepFailed } from './errors.ts';
import { existingContainers, removeLeftovers } from './leftovers.ts';
import { BuildProgress, firstExposedPort, JsonLines } from './progress.ts';
import type { BuildSandbox, ProcessLimit } from './sandbox.ts';

/** How to build one image. */
export interface BuildOptions {
  tag: string;
  dockerfilePath: string;
  memoryBytes: number;
  timeoutMs: number;
  /** Where the step containers run and their limits. */
  sandbox: BuildSandbox;
  signal: AbortSignal;
  onLine: (line: string) => void;
  /** The containers that existed before the build, when the caller listed them already. */
  before?: ReadonlySet<string>;
}

/** The result of a successful build. */
export interface BuiltImage {
  imageId: string;
  exposedPort: number | null;
  durationMs: number;
  /** The image's labels, as the engine reports them. */
  labels: Record<string, string>;
  /** The images the build's earlier stages ended with: the build cache its next build starts from. */
  stageImageIds: string[];
}

/**
 * Builds an image from a context (a tar stream, or a small tar in memory, sent with its length)
 * with the engine's classic builder. Every output line (step headers, RUN output, errors) reaches
 * `onLine` as it arrives; the result is the image id (from the builder's aux message, else by
 * inspecting the tag) and its first EXPOSE port.
 */
export async function buildImage(docker: Docker, context: Readable | Buffer, opts: BuildOptions): Promise<BuiltImage> {
  const started = Date.now();
  if (opts.signal.aborted) {
    release(context);
    throw new BuildCanceled(null);
  }
  const before = opts.before ?? (await existingContainers(docker));
  // Counted as running from before its request to after its result is inspected (build-gate.ts).
  const leave = await buildGate.enter();
  try {
    return await runBuild(docker, context, opts, before, started);
  } finally {
    leave();
  }
}

async function runBuild(
  docker: Docker,
  context: Readable | Buffer,
  opts: BuildOptions,
  before: ReadonlySet<string>,
  started: number,
): Promise<BuiltImage> {
  const progress = new BuildProgress(opts.onLine);
  // Once the engine has reported a failure, that stays the build's reason.
  const processes = opts.sandbox.processes;
  const stops = watchStops(opts.signal, opts.timeoutMs, () => progress.error !== null, processes);
  try {
    await streamBuild(docker, context, opts, stops.signal, progress);
  } catch (err) {
    if (stops.reason() === null && progress.error === null) throw engineFailure(err, progress);
  } finally {
    stops.dispose();
    release(context); // after an abort the request no longer reads it; release the source file
  }
  progress.flush();

  const stoppedBy = stops.reason();
  if (stoppedBy !== null) {
    await removeLeftovers(docker, progress.containers, before, opts.onLine);
    if (stoppedBy === 'cancel') throw new BuildCanceled(progress.step);
    if (stoppedBy === 'processes') throw new BuildProcessLimit(processes!.limit, progress.step);
    throw new BuildTimedOut(opts.timeoutMs, progress.step);
  }
  if (progress.error !== null) {
    // A step whose forks failed on the limit may fail on its own before the watch notices.
    if (processes?.reached()) throw new BuildProcessLimit(processes.limit, progress.step);
    throw stepFailed(progress.error, progress.step, opts.memoryBytes);
  }
  const image = await inspectResult(docker, progress.imageId ?? opts.tag, progress);
  return {
    imageId: image.Id,
    exposedPort: firstExposedPort(image.Config?.ExposedPorts, progress.exposed),
    durationMs: Date.now() - started,
    labels: image.Config?.Labels ?? {},
    stageImageIds: progress.stageImages.filter((id) => id !== image.Id),
  };
}

/** Closes a streamed context; a buffered one holds nothing open. */
function release(context: Readable | Buffer): void {
  if (!Buffer.isBuffer(context)) context.destroy();
}

/** How often the process limit is looked at; a fork bomb is stopped within about this long. */
const PROCESS_WATCH_MS = 200;

/**
 * Aborts the build request on the caller's signal, at the timeout, or once a fork has failed on
 * the process limit (a fork bomb that keeps the limit full would otherwise run until the
 * timeout), remembering which came first.
 */
function watchStops(
  caller: AbortSignal,
  timeoutMs: number,
  alreadyFailed: () => boolean,
  processes: ProcessLimit | null,
) {
  const controller = new AbortController();
  let reason: 'cancel' | 'timeout' | 'processes' | null = null;
  const stop = (why: 'cancel' | 'timeout' | 'processes') => {
    if (!alreadyFailed()) reason ??= why;
    controller.abort();
  };
  const onCancel = () => stop('cancel');
  caller.addEventListener('abort', onCancel, { once: true });
  if (caller.aborted) onCancel(); // aborted while the build was being prepared
  const timer = setTimeout(() => stop('timeout'), timeoutMs);
  const watch = processes && setInterval(() => processes.reached() && stop('processes'), PROCESS_WATCH_MS);
  return {
    signal: controller.signal,
    reason: () => reason,
    dispose: () => {
      clearTimeout(timer);
      if (watch) clearInterval(watch);
      caller.removeEventListener('abort', onCancel);
    },
  };
}

/** The CFS period of the CPU limit: the step containers get `cpus` times this much CPU time per period. */
const CPU_PERIOD_US = 100_000;

async function streamBuild(
  docker: Docker,
  context: Readable | Buffer,
  opts: BuildOptions,
  signal: AbortSignal,
  progress: BuildProgress,
) {
  // docker-modem sends a Buffer as one body with its Content-Length; dockerode's types list streams only.
  const response = (await docker.buildImage(context as NodeJS.ReadableStream, {
    t: opts.tag,
    dockerfile: opts.dockerfilePath,
    // The classic builder, whose stream format BuildProgress follows, whatever the engine's default.
    version: '1',
    rm: true,
    forcerm: true, // intermediate containers are removed even when a step fails
    memory: opts.memoryBytes,
    memswap: opts.memoryBytes, // equal to memory: no swap on top of the limit
    networkmode: opts.sandbox.network,
    cpuperiod: CPU_PERIOD_US,
    cpuquota: Math.round(opts.sandbox.cpus * CPU_PERIOD_US),
    // The build API has no pids limit; a parent cgroup with pids.max caps every step container.
    ...(opts.sandbox.processes ? { cgroupparent: opts.sandbox.processes.cgroupParent } : {}),
    nocache: false,
    // `pull` is left out: the engine then uses a local base image and pulls only a missing one,
    // while pull=1 would contact the registry for every build.
    abortSignal: signal,
  })) as IncomingMessage;
  // dockerode hands the abort signal to the request only; the response must be closed too.
  const closeResponse = () => response.destroy();
  signal.addEventListener('abort', closeResponse, { once: true });
  if (signal.aborted) closeResponse();
  try {
    const lines = new JsonLines();
    for await (const chunk of response) for (const msg of lines.push(chunk as Buffer)) progress.handle(msg);
    for (const msg of lines.end()) progress.handle(msg);
  } finally {
    signal.removeEventListener('abort', closeResponse);
  }
}

// An HTTP error status means the engine refused the request (a missing Dockerfile, an invalid
// tag): the build's fault. A connection lost mid-stream ends the build without a result. Failing
// to connect at all is the engine's problem, not the build's, and is passed on as is.
function engineFailure(err: unknown, progress: BuildProgress): unknown {
  const { statusCode, message } = err as { statusCode?: number; message?: string };
  if (statusCode !== undefined) {
    const reason = (message ?? '').replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
    return new BuildError(`Build failed: ${reason || `the Docker engine answered ${statusCode}`}`);
  }
  return progress.started ? new BuildIncomplete(progress.step) : err;
}

async function inspectResult(docker: Docker, ref: string, progress: BuildProgress) {
  try {
    return await docker.getImage(ref).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) throw new BuildIncomplete(progress.step);
    throw err;
  }
}
