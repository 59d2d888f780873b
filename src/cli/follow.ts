/**
 * Following a deployment's build and deploy log live (SSE, resumed with Last-Event-ID after a
 * dropped connection) until its `end` event. Ctrl-C asks whether to cancel the deployment on a
 * terminal; elsewhere it stops following at once and leaves the deployment running.
 */
import { seg } from './client.ts';
import type { Ctx } from './context.ts';
import { CliError, FailedError, InterruptedError, UnreachableError } from './errors.ts';
import { confirm, interactive, note, out } from './io.ts';
import { sseEvents } from './sse.ts';
import type { Deployment } from './api-types.ts';

/** The final state of a followed deployment, from the log's `end` event. */
export interface LogEnd {
  status: string;
  failure_reason: string | null;
}

const RECONNECTS = 5;

/**
 * Prints the log of `dep` until it ends (with `json`, one `{"seq","line"}` object per line); resolves
 * the end, throws InterruptedError on Ctrl-C.
 */
export async function followDeployment(
  ctx: Ctx,
  project: string,
  dep: Pick<Deployment, 'id' | 'number'>,
  json = false,
): Promise<LogEnd> {
  const { io } = ctx;
  const controller = new AbortController();
  const held: string[] = [];
  let prompting = false;
  let canceledByUser = false;
  const print = (seq: string | null, line: string) => {
    const text = json ? JSON.stringify({ seq: Number(seq), line }) : line;
    if (prompting) held.push(text);
    else out(io, text);
  };
  const stopListening = io.onInterrupt(() => {
    if (prompting) return;
    if (!interactive(io)) return controller.abort();
    prompting = true;
    void askToCancel().catch(() => controller.abort());
  });
  const resume = () => {
    prompting = false;
    for (const line of held.splice(0)) out(io, line);
  };
  const askToCancel = async () => {
    const yes = await confirm(io, `\nCancel deployment #${dep.number} of ${project}?`).finally(resume);
    if (!yes) return;
    // Set first: the log may end (canceled) before the cancel request has answered.
    canceledByUser = true;
    note(io, `Canceling deployment #${dep.number}…`);
    try {
      await ctx.client().request('POST', `/v1/projects/${seg(project)}/deployments/${seg(dep.id)}/cancel`);
    } catch (err) {
      canceledByUser = false;
      note(io, `Could not cancel: ${(err as Error).message}`);
    }
  };
  try {
    const end = await readUntilEnd(ctx, project, dep.id, print, controller.signal);
    if (canceledByUser) throw new InterruptedError(`Canceled deployment #${dep.number} of ${project}`);
    return end;
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    throw new InterruptedError(`Stopped following; deployment #${dep.number} of ${project} goes on`, [
      `Cancel it with: slipway deployments cancel ${dep.number} --project ${project}`,
    ]);
  } finally {
    stopListening();
  }
}

async function readUntilEnd(
  ctx: Ctx,
  project: string,
  id: string,
  print: (seq: string | null, line: string) => void,
  signal: AbortSignal,
): Promise<LogEnd> {
  let lastId: string | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await ctx.client().request('GET', `/v1/projects/${seg(project)}/deployments/${seg(id)}/logs`, {
        query: { follow: true },
        headers: { accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) },
        signal,
      });
      for await (const ev of sseEvents(res.body!)) {
        if (ev.event === 'end') return JSON.parse(ev.data) as LogEnd;
        if (ev.id) lastId = ev.id;
        print(ev.id, ev.data);
      }
    } catch (err) {
      // The agent restarted or the connection dropped: resume where the log was left.
      const transient =
        err instanceof UnreachableError || (!(err instanceof CliError) && (err as Error).name !== 'AbortError');
      if (signal.aborted || !transient || attempt >= RECONNECTS) throw err;
    }
    if (attempt >= RECONNECTS)
      throw new UnreachableError(`The log of deployment ${id} stopped before the deployment ended`);
    await Bun.sleep(1000);
  }
}

/** Throws FailedError (exit code 1) with the reason unless the deployment went live. */
export function requireLive(end: LogEnd, dep: Pick<Deployment, 'number'>, project: string): void {
  if (end.status === 'live' || end.status === 'replaced') return;
  const what = end.status === 'canceled' ? 'was canceled' : end.status === 'deleted' ? 'was deleted' : 'failed';
  throw new FailedError(
    `Deployment #${dep.number} of ${project} ${what}${end.failure_reason ? `: ${end.failure_reason}` : ''}`,
  );
}

/** How to report a queued deployment. */
export interface QueuedOptions {
  /** Why it was queued, e.g. "upload" or "retry of #2". */
  what: string;
  follow?: boolean;
  /** Print the id on stdout when not following (for scripts); default true. */
  idOnStdout?: boolean;
  /** Where the project answers, for the final line. */
  hostname?: string;
}

/** Reports a queued deployment, then follows it when asked (exit 1 unless it goes live). */
export async function queued(ctx: Ctx, project: string, dep: Deployment, opts: QueuedOptions): Promise<void> {
  const { what, follow, idOnStdout = true, hostname } = opts;
  note(ctx.io, `Deployment #${dep.number} (${what}) of ${project} is ${dep.status}: ${dep.id}`);
  if (!follow) {
    if (idOnStdout) out(ctx.io, dep.id);
    note(ctx.io, `Follow it with: slipway deployments logs ${dep.number} --project ${project} --follow`);
    return;
  }
  const end = await followDeployment(ctx, project, dep);
  requireLive(end, dep, project);
  note(ctx.io, `Deployment #${dep.number} of ${project} is live${hostname ? ` at ${hostname}` : ''}`);
}
