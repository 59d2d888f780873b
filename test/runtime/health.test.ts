import { describe, expect, setSystemTime, test } from 'bun:test';
import type Docker from 'dockerode';
import { HealthCheckTimedOut, InstanceExited } from '../../src/deployments/failures.ts';
import { type HealthCheck, probeWait, recentState, waitHealthy } from '../../src/runtime/health.ts';

/** A container whose inspect reports `state()`; the probes' timing does not depend on Docker itself. */
function engine(state: () => { Running: boolean; ExitCode?: number }): Docker {
  const inspect = async () => ({ State: { OOMKilled: false, Restarting: false, ExitCode: 0, ...state() } });
  return { getContainer: () => ({ inspect }) } as unknown as Docker;
}

/** The gate's check of `target` (container c1, path /, 5 s), with `overrides`. */
function healthCheck(target: string, overrides: Partial<HealthCheck> = {}): HealthCheck {
  return { containerId: 'c1', target, path: '/', timeoutMs: 5000, signal: new AbortController().signal, ...overrides };
}

/** A free loopback port: listen on 0, note the port, close. */
function freePort(): number {
  const probe = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

describe('the health gate', () => {
  test('probes every 5 ms for the first 250 ms, then doubles the pause up to the interval', () => {
    expect([0, 100, 249].map((elapsed) => probeWait(elapsed, 0, 1000))).toEqual([5, 5, 5]);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((slow) => probeWait(250 + slow, slow, 1000))).toEqual([
      10, 20, 40, 80, 160, 320, 640, 1000,
    ]);
    expect(probeWait(5000, 30, 200)).toBe(200);
  });

  test('passes an app once it starts listening, after the probes it refused', async () => {
    const port = freePort();
    let app: ReturnType<typeof Bun.serve> | null = null;
    const listening = Bun.sleep(20).then(() => {
      app = Bun.serve({ hostname: '127.0.0.1', port, fetch: () => new Response('ok') });
      return performance.now();
    });
    await waitHealthy(
      engine(() => ({ Running: true })),
      healthCheck(`127.0.0.1:${port}`),
    );
    const healthy = performance.now();
    (app as ReturnType<typeof Bun.serve> | null)?.stop(true);
    expect(healthy).toBeGreaterThanOrEqual(await listening);
  });

  test('asks for the instance state at most every 50 ms, and again at once after a failed answer', async () => {
    let asked = 0;
    let failing = false;
    const current = recentState(async () => {
      asked++;
      if (failing) throw new Error('the engine is down');
      return { running: true, oomKilled: false, exitCode: 0 };
    });
    const at = (ms: number) => setSystemTime(new Date(1_800_000_000_000 + ms));
    try {
      at(0);
      await current();
      await current();
      at(49);
      await current();
      expect(asked).toBe(1);
      at(50);
      await current();
      expect(asked).toBe(2);
      failing = true;
      at(100);
      await expect(current()).rejects.toThrow('the engine is down');
      failing = false;
      await current();
      expect(asked).toBe(4);
    } finally {
      setSystemTime();
    }
  });

  test('a gate probing an unhealthy app inspects the container no more often than every 50 ms', async () => {
    let inspects = 0;
    const started = performance.now();
    // Unhealthy for its first 200 ms, then healthy.
    const app = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => new Response('', { status: performance.now() - started < 200 ? 503 : 200 }),
    });
    try {
      await waitHealthy(
        engine(() => {
          inspects++;
          return { Running: true };
        }),
        healthCheck(`127.0.0.1:${app.port}`),
      );
    } finally {
      app.stop(true);
    }
    expect(inspects).toBeGreaterThan(0);
    expect(inspects).toBeLessThanOrEqual(Math.ceil((performance.now() - started) / 50) + 1);
  });

  test('fails at once when the container exited, whatever the probe got', async () => {
    const check = waitHealthy(
      engine(() => ({ Running: false, ExitCode: 3 })),
      healthCheck(`127.0.0.1:${freePort()}`),
    );
    await expect(check).rejects.toBeInstanceOf(InstanceExited);
  });

  test('times out with the last thing that went wrong when the app never answers 2xx or 3xx', async () => {
    const app = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('sick', { status: 503 }) });
    try {
      const check = waitHealthy(
        engine(() => ({ Running: true })),
        healthCheck(`127.0.0.1:${app.port}`, { path: '/health', timeoutMs: 300 }),
      );
      const err = await check.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HealthCheckTimedOut);
      expect((err as Error).message).toContain('HTTP 503');
    } finally {
      app.stop(true);
    }
  });

  test('takes the state read right after the start as its first answer: an app that answers at once costs no inspect', async () => {
    let inspects = 0;
    const app = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('ok') });
    try {
      await waitHealthy(
        engine(() => {
          inspects++;
          return { Running: true };
        }),
        healthCheck(`127.0.0.1:${app.port}`, { known: { running: true, oomKilled: false, exitCode: 0 } }),
      );
    } finally {
      app.stop(true);
    }
    expect(inspects).toBe(0);
  });

  test('takes a known state as the first answer for 50 ms, then asks', async () => {
    let asked = 0;
    const at = (ms: number) => setSystemTime(new Date(1_800_000_000_000 + ms));
    try {
      at(0);
      const current = recentState(
        async () => {
          asked++;
          return { running: true, oomKilled: false, exitCode: 0 };
        },
        { running: true, oomKilled: false, exitCode: 0 },
      );
      await current();
      at(49);
      await current();
      expect(asked).toBe(0);
      at(50);
      await current();
      expect(asked).toBe(1);
    } finally {
      setSystemTime();
    }
  });

  test('fails at once on a known state of an exited container, without asking the engine', async () => {
    let inspects = 0;
    const check = waitHealthy(
      engine(() => {
        inspects++;
        return { Running: true };
      }),
      healthCheck(`127.0.0.1:${freePort()}`, { known: { running: false, oomKilled: false, exitCode: 7 } }),
    );
    await expect(check).rejects.toMatchObject({ exitCode: 7 });
    expect(inspects).toBe(0);
  });
});
