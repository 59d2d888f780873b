import type { Logger } from '../log.ts';

/** How often the certificate loop runs: renewals are due for days, orders back off for minutes. */
export const CERTIFICATE_PASS_MS = 60_000;
/** How long stopping waits for a pass that is placing orders. */
const STOP_WAIT_MS = 5_000;

/** A running certificate loop. */
export interface CertificateLoop {
  /** Stops the timer and waits a little for the pass in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` now and then every `intervalMs`, never two at once (a slow CA makes the next tick
 * skip rather than pile up). A failing pass is logged; the next one tries again.
 */
export function startCertificateLoop(
  pass: () => Promise<void>,
  log: Logger,
  intervalMs: number = CERTIFICATE_PASS_MS,
): CertificateLoop {
  let current: Promise<void> | null = null;
  const tick = () => {
    current ??= pass()
      .catch((err: unknown) => log.warn('certificate pass failed', { error: String(err) }))
      .finally(() => {
        current = null;
      });
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      if (current) await Promise.race([current, Bun.sleep(STOP_WAIT_MS)]);
    },
  };
}
