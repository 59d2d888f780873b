/**
 * The agent's housekeeping: the reconciler, the route follower, the domain checker, the
 * certificate loop, the build isolation check, the deploy worker, interrupted backups, webhook
 * deliveries and the backup schedule. `serve` starts it shortly after the API listens: each of
 * these begins with synchronous work (engine calls, `iptables` spawns, database reads) that would
 * otherwise run before the event loop reaches the first requests already waiting on the socket.
 */
import type { Deps } from '../deps.ts';
import { startCertificateLoop } from '../certificates/loop.ts';
import { startBackupSchedule } from '../backups/scheduler.ts';

/** How long after listening the housekeeping starts: the first requests go first. */
export const BACKGROUND_DELAY_MS = 100;

/** Stops what has started of the housekeeping, or keeps it from starting. */
export type StopBackground = () => Promise<void>;

/** Starts the housekeeping after `delayMs`; the deploy worker only once build isolation was checked. */
export function startBackground(deps: Deps, delayMs = BACKGROUND_DELAY_MS): StopBackground {
  let stopped = false;
  const stops: (() => Promise<void> | void)[] = [];
  const start = async () => {
    const reconcile = startReconciler(deps);
    stops.push(
      () => clearInterval(reconcile),
      deps.follower.start(),
      () => deps.domainChecker.stop(),
    );
    deps.domainChecker.start();
    // Orders the API domain's and default host names' certificates, renews the ones due.
    const certificates = startCertificateLoop(() => deps.certificates.pass(), deps.log);
    stops.push(() => certificates.stop());
    // Before the worker, which builds.
    await prepareBuilds(deps);
    if (stopped) return;
    deps.worker.start();
    deps.backups.recover();
    deps.webhookWorker.start();
    stops.push(
      () => deps.worker.stop(),
      () => deps.releases.retirements.settled(),
      () => deps.webhookWorker.stop(),
      startBackupSchedule(deps.backups, deps.config.backupSchedule, deps.log),
    );
  };
  let started: Promise<void> | null = null;
  const timer = setTimeout(() => {
    started = start();
  }, delayMs);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await started;
    for (const stop of stops) await stop();
  };
}

/**
 * Sets up build isolation when running as root (the systemd install runs `slipway prepare-builds`
 * as root before starting the agent as its own user instead), then says whether builds can run:
 * a build is refused while the isolation is not in place, so that is a warning, not a stop.
 */
async function prepareBuilds(deps: Deps): Promise<void> {
  try {
    if (process.getuid?.() === 0) await deps.buildIsolation.prepare();
    const inPlace = await deps.buildIsolation.check();
    if (inPlace.unlimitedBecause)
      deps.log.warn('builds run without a process limit', { reason: inPlace.unlimitedBecause });
  } catch (err) {
    deps.log.warn('builds are refused until build isolation is in place', { error: (err as Error).message });
    console.warn(`Builds are refused until build isolation is in place: ${(err as Error).message}`);
  }
}

function startReconciler(deps: Deps): ReturnType<typeof setInterval> {
  let running = false;
  const pass = async () => {
    if (running) return;
    running = true;
    await deps.reconciler.run().catch((err) => deps.log.warn('reconcile pass failed', { error: String(err) }));
    running = false;
  };
  void pass();
  return setInterval(() => void pass(), deps.config.reconcileIntervalSeconds * 1000);
}
