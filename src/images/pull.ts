/**
 * Pulling a prebuilt image for a deployment. The tag is first resolved to its digest through the
 * engine (which asks the registry with the credentials given), then the image is pulled by that
 * digest: a pull by digest writes no tag into the engine's store, so a tenant's pull can never
 * replace a local image another project builds on (`node:22`, a base-image setting). The pull is
 * stopped when it passes the size limit or the timeout, or when the deployment is canceled.
 */
import type Docker from 'dockerode';
import type { IncomingMessage } from 'node:http';
import {
  BuildCanceled,
  ImagePullFailed,
  ImagePullTimedOut,
  ImagePullTooLarge,
  ImageRefused,
} from '../deployments/failures.ts';
import { JsonLines } from '../build/progress.ts';
import type { PullAuth } from '../registries/service.ts';
import type { ImageReference } from './reference.ts';
import { PullProgress, type PullMessage } from './pull-progress.ts';

/** How to pull one image. */
export interface PullOptions {
  ref: ImageReference;
  auth: PullAuth | null;
  maxBytes: number;
  timeoutMs: number;
  signal: AbortSignal;
  onLine: (line: string) => void;
}

/** A pulled image, known by its digest reference (untagged) and id. */
export interface PulledImage {
  /** `host/path@sha256:…`, the reference the engine keeps for it; remove it once the image is stamped. */
  digestRef: string;
  imageId: string;
  bytes: number;
  exposedPorts: Record<string, unknown>;
}

/** Resolves, pulls and inspects `ref`; throws an ImagePull* failure or BuildCanceled. */
export async function pullImage(docker: Docker, o: PullOptions): Promise<PulledImage> {
  const started = Date.now();
  const digest = o.ref.digest ?? (await withinTimeout(resolveDigest(docker, o), o));
  const left = { ...o, timeoutMs: Math.max(1, o.timeoutMs - (Date.now() - started)) };
  const name = `${o.ref.host}/${o.ref.path}`;
  const digestRef = `${name}@${digest}`;
  o.onLine(`Pulling ${o.ref.canonical}${o.ref.digest ? '' : ` (${digest})`}${o.auth ? ` as ${o.auth.username}` : ''}`);
  await streamPull(docker, name, digest, left);
  const info = await docker
    .getImage(digestRef)
    .inspect()
    .catch((err: Error) => {
      throw new ImagePullFailed(o.ref.canonical, `the engine does not have it after the pull (${err.message})`);
    });
  if (info.Size > o.maxBytes) {
    await docker
      .getImage(digestRef)
      .remove()
      .catch(() => {});
    throw new ImagePullTooLarge(o.ref.canonical, o.maxBytes);
  }
  if ((info.Config?.OnBuild ?? []).length > 0) {
    await docker
      .getImage(digestRef)
      .remove()
      .catch(() => {});
    throw new ImageRefused(o.ref.canonical, "it has ONBUILD triggers, which would run in Slipway's build");
  }
  o.onLine(
    `Pulled ${o.ref.canonical} (${info.Id.slice(0, 19)}, ${(info.Size / 1e6).toFixed(1)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { digestRef, imageId: info.Id, bytes: info.Size, exposedPorts: info.Config?.ExposedPorts ?? {} };
}

/** `work`, or ImagePullTimedOut once the pull's timeout passes (or BuildCanceled on cancel) first. */
function withinTimeout<T>(work: Promise<T>, o: PullOptions): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort = () => {};
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ImagePullTimedOut(o.ref.canonical, o.timeoutMs)), o.timeoutMs);
    onAbort = () => reject(new BuildCanceled(null));
    if (o.signal.aborted) onAbort();
    o.signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, stop]).finally(() => {
    clearTimeout(timer);
    o.signal.removeEventListener('abort', onAbort);
  });
}

/** The digest the registry has for the reference's tag, asked through the engine. */
async function resolveDigest(docker: Docker, o: PullOptions): Promise<string> {
  try {
    const found = (await docker.getImage(o.ref.canonical).distribution(o.auth ? { authconfig: o.auth } : {})) as {
      Descriptor?: { digest?: string };
    };
    const digest = found.Descriptor?.digest;
    if (!digest || !/^sha256:[a-f0-9]{64}$/.test(digest)) throw new Error('the registry sent no digest');
    return digest;
  } catch (err) {
    throw new ImagePullFailed(o.ref.canonical, pullProblem(err, o.auth !== null));
  }
}

/** The engine's refusal in words a user can act on. */
function pullProblem(err: unknown, withAuth: boolean): string {
  const e = err as { statusCode?: number; json?: { message?: string }; message?: string };
  const message = e.json?.message ?? e.message ?? String(err);
  if (/unauthorized|authentication required|no basic auth credentials|401/i.test(message)) {
    return withAuth
      ? 'the registry refused the stored credentials (check them with `slipway registries add`)'
      : 'the registry requires credentials; an admin can add them with `slipway registries add`';
  }
  if (/manifest unknown|not found|404/i.test(message)) return 'the registry has no such image or tag';
  return message.replace(/\s+/g, ' ').slice(0, 500);
}

async function streamPull(docker: Docker, name: string, digest: string, o: PullOptions): Promise<void> {
  const abort = new AbortController();
  let stoppedBy: 'size' | 'timeout' | 'cancel' | null = null;
  const stop = (why: typeof stoppedBy) => {
    stoppedBy ??= why;
    abort.abort();
  };
  const timer = setTimeout(() => stop('timeout'), o.timeoutMs);
  const onCancel = () => stop('cancel');
  o.signal.addEventListener('abort', onCancel, { once: true });
  const progress = new PullProgress(o.onLine);
  try {
    if (o.signal.aborted) stop('cancel');
    const stream = (await docker.createImage({
      fromImage: name,
      tag: digest,
      abortSignal: abort.signal,
      ...(o.auth ? { authconfig: o.auth } : {}),
    } as never)) as IncomingMessage;
    await readMessages(stream, abort.signal, (m) => {
      progress.take(m);
      if (progress.announcedBytes > o.maxBytes) stop('size');
    });
  } catch (err) {
    if (stoppedBy === null) throw new ImagePullFailed(o.ref.canonical, pullProblem(err, o.auth !== null));
  } finally {
    clearTimeout(timer);
    o.signal.removeEventListener('abort', onCancel);
  }
  if (stoppedBy === 'cancel') throw new BuildCanceled(null);
  if (stoppedBy === 'timeout') throw new ImagePullTimedOut(o.ref.canonical, o.timeoutMs);
  if (stoppedBy === 'size') throw new ImagePullTooLarge(o.ref.canonical, o.maxBytes);
  if (progress.error !== null)
    throw new ImagePullFailed(o.ref.canonical, pullProblem(new Error(progress.error), o.auth !== null));
}

/** Reads the stream's JSON messages until it ends; rejects when it fails or `signal` aborts. */
function readMessages(stream: IncomingMessage, signal: AbortSignal, each: (m: PullMessage) => void): Promise<void> {
  const lines = new JsonLines();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      stream.destroy();
      reject(new Error('aborted'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer) => {
      for (const m of lines.push(chunk)) each(m as PullMessage);
    });
    stream.on('end', () => {
      for (const m of lines.end()) each(m as PullMessage);
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    stream.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
  });
}
