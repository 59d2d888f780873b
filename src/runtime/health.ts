import type Docker from 'dockerode';
import {
  HealthCheckStopped,
  HealthCheckTimedOut,
  InstanceExited,
  InstanceOutOfMemory,
} from '../deployments/failures.ts';
import type { InstanceState, ReadyCheck } from './runtime.ts';

export type { InstanceState } from './runtime.ts';

/** How to decide a container is ready. */
export interface HealthCheck extends ReadyCheck {
  containerId: string;
}

/**
 * Probes are this far apart for the first QUICK_FOR_MS after the container started, as a person
 * polling by hand would: most apps start listening within that time, and a probe of a port nothing
 * listens on yet costs a refused connection. After that the pause doubles from QUICK_MS up to the
 * check's interval.
 */
const QUICK_MS = 5;
const QUICK_FOR_MS = 250;
/**
 * The instance's state is asked at most this often: a probe every QUICK_MS need not cost the engine
 * an inspect each time. The first probe always asks.
 */
const STATE_EVERY_MS = 50;

/**
 * Polls `GET http://<target><path>` (from Slipway itself: no curl needed in the image) until
 * it answers 2xx or 3xx: every 5 ms for the first 250 ms, then doubling up to `intervalMs` (1 s),
 * so an app that listens within milliseconds goes live within milliseconds. Alongside the probes
 * the container is inspected (at most every 50 ms): fails early when it exited or was OOM-killed,
 * and after `timeoutMs` with the last thing that went wrong. A state the runtime read right after the
 * start (`check.known`) stands for the first inspect.
 */
export function waitHealthy(docker: Docker, check: HealthCheck): Promise<void> {
  return waitReady(check, () => containerState(docker, check.containerId));
}

/** The state of a container on one engine. */
export async function containerState(docker: Docker, containerId: string): Promise<InstanceState> {
  return stateOf(await docker.getContainer(containerId).inspect());
}

/** The state an inspected container is in. */
export function stateOf({ State }: Pick<Docker.ContainerInspectInfo, 'State'>): InstanceState {
  return { running: State.Running && !State.Restarting, oomKilled: State.OOMKilled, exitCode: State.ExitCode };
}

/** The health gate of any runtime: probes the target, asking `state` whether the instance still runs. */
export async function waitReady(check: ReadyCheck, state: () => Promise<InstanceState>): Promise<void> {
  const started = Date.now();
  const deadline = started + check.timeoutMs;
  const interval = check.intervalMs ?? 1000;
  const current = recentState(state, check.known);
  let slowProbes = 0;
  while (true) {
    if (check.signal.aborted) throw new HealthCheckStopped();
    const [now, probe] = await Promise.all([current(), probeOnce(check, interval)]);
    if (now.oomKilled) throw new InstanceOutOfMemory();
    if (!now.running) throw new InstanceExited(now.exitCode);
    if (probe === null) return;
    if (check.signal.aborted) throw new HealthCheckStopped();
    const elapsed = Date.now() - started;
    if (elapsed >= QUICK_FOR_MS) slowProbes++;
    const wait = probeWait(elapsed, slowProbes, interval);
    if (Date.now() + wait > deadline) throw new HealthCheckTimedOut(check.path, check.timeoutMs, probe);
    await Bun.sleep(wait);
  }
}

/**
 * The pause after a failed probe, `elapsedMs` after the gate started: QUICK_MS within QUICK_FOR_MS,
 * then QUICK_MS doubled for each of the `slowProbes` failed since (counting this one), up to `interval`.
 */
export function probeWait(elapsedMs: number, slowProbes: number, interval: number): number {
  return elapsedMs < QUICK_FOR_MS ? QUICK_MS : Math.min(interval, QUICK_MS * 2 ** slowProbes);
}

/**
 * `state`, asked again only once the last answer is STATE_EVERY_MS old (or failed); `known`, read
 * just before the gate began, counts as the first answer.
 */
export function recentState(state: () => Promise<InstanceState>, known?: InstanceState): () => Promise<InstanceState> {
  let last: { at: number; answer: Promise<InstanceState> } | null =
    known === undefined ? null : { at: Date.now(), answer: Promise.resolve(known) };
  return () => {
    if (last === null || Date.now() - last.at >= STATE_EVERY_MS) {
      const answer = state();
      const entry = { at: Date.now(), answer };
      last = entry;
      answer.catch(() => {
        if (last === entry) last = null; // a failed inspect is not reused
      });
    }
    return last.answer;
  };
}

/** One GET of the health path: null when it answered 2xx or 3xx, else what went wrong. */
async function probeOnce(check: ReadyCheck, interval: number): Promise<string | null> {
  try {
    const res = await fetch(`http://${check.target}${check.path}`, {
      redirect: 'manual',
      signal: AbortSignal.any([check.signal, AbortSignal.timeout(Math.min(5000, interval * 5))]),
    });
    await res.body?.cancel();
    return res.status >= 200 && res.status < 400 ? null : `HTTP ${res.status}`;
  } catch (err) {
    return (err as Error).name === 'TimeoutError' ? 'no answer within 5 s' : (err as Error).message || String(err);
  }
}

/** The last `lines` log lines of a container, stdout and stderr merged, for failure reports. */
export async function lastLogLines(docker: Docker, containerId: string, lines = 20): Promise<string[]> {
  try {
    const raw = (await docker
      .getContainer(containerId)
      .logs({ stdout: true, stderr: true, tail: lines, follow: false })) as Buffer;
    return demux(raw)
      .split('\n')
      .filter((l) => l !== '');
  } catch {
    return [];
  }
}

/** Strips Docker's 8-byte stream headers from a non-TTY log buffer. */
export function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  for (let i = 0; i + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(out).toString('utf8');
}
