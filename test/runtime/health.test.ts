import { describe, expect, test } from 'bun:test';
import type Docker from 'dockerode';
import { HealthCheckTimedOut, InstanceExited } from '../../src/deployments/failures.ts';
import { waitHealthy } from '../../src/runtime/health.ts';

/** A container whose inspect reports `state()`; the probes' timing does not depend on Docker itself. */
function engine(state: () => { Running: boolean; ExitCode?: number }): Docker {
  const inspect = async () => ({ State: { OOMKilled: false, Restarting: false, ExitCode: 0, ...state() } });
  return { getContainer: () => ({ inspect }) } as unknown as Docker;
}

/** A free loopback port: listen on 0, note the port, close. */
function freePort(): number {
  const probe = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

describe('the health gate', () => {
  test('passes an app within milliseconds of it starting to listen, not at the next 100 ms step', async () => {
    const port = freePort();
    let app: ReturnType<typeof Bun.serve> | null = null;
    const listening = Bun.sleep(20).then(() => {
      app = Bun.serve({ hostname: '127.0.0.1', port, fetch: () => new Response('ok') });
      return performance.now();
    });
    const started = performance.now();
    await waitHealthy(
      engine(() => ({ Running: true })),
      {
        containerId: 'c1',
        target: `127.0.0.1:${port}`,
        path: '/',
        timeoutMs: 5000,
        signal: new AbortController().signal,
      },
    );
    const healthy = performance.now();
    (app as ReturnType<typeof Bun.serve> | null)?.stop(true);
    // Probes every 5 ms at first: healthy at ~25 ms (a first wait of 100 ms made it 100).
    expect(healthy).toBeGreaterThanOrEqual(await listening);
    expect(healthy - started).toBeLessThan(90);
  });

  test('asks the engine for the container state at most every 50 ms while probing every 5 ms', async () => {
    let probes = 0;
    let inspects = 0;
    const started = performance.now();
    // Unhealthy for its first 200 ms, then healthy.
    const app = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => {
        probes++;
        return new Response('', { status: performance.now() - started < 200 ? 503 : 200 });
      },
    });
    try {
      await waitHealthy(
        engine(() => {
          inspects++;
          return { Running: true };
        }),
        {
          containerId: 'c1',
          target: `127.0.0.1:${app.port}`,
          path: '/',
          timeoutMs: 5000,
          signal: new AbortController().signal,
        },
      );
    } finally {
      app.stop(true);
    }
    const elapsed = performance.now() - started;
    expect(inspects).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 1);
    // Asking the engine alongside every probe would make these equal.
    expect(probes).toBeGreaterThan(inspects * 2);
  });

  test('fails at once when the container exited, whatever the probe got', async () => {
    const check = waitHealthy(
      engine(() => ({ Running: false, ExitCode: 3 })),
      {
        containerId: 'c1',
        target: `127.0.0.1:${freePort()}`,
        path: '/',
        timeoutMs: 5000,
        signal: new AbortController().signal,
      },
    );
    await expect(check).rejects.toBeInstanceOf(InstanceExited);
  });

  test('times out with the last thing that went wrong when the app never answers 2xx or 3xx', async () => {
    const app = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('sick', { status: 503 }) });
    try {
      const check = waitHealthy(
        engine(() => ({ Running: true })),
        {
          containerId: 'c1',
          target: `127.0.0.1:${app.port}`,
          path: '/health',
          timeoutMs: 300,
          signal: new AbortController().signal,
        },
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
        {
          containerId: 'c1',
          target: `127.0.0.1:${app.port}`,
          path: '/',
          timeoutMs: 5000,
          signal: new AbortController().signal,
          known: { running: true, oomKilled: false, exitCode: 0 },
        },
      );
    } finally {
      app.stop(true);
    }
    expect(inspects).toBe(0);
  });

  test('asks the engine again once the known state is 50 ms old', async () => {
    let inspects = 0;
    const started = performance.now();
    const app = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => new Response('', { status: performance.now() - started < 120 ? 503 : 200 }),
    });
    try {
      await waitHealthy(
        engine(() => {
          inspects++;
          return { Running: true };
        }),
        {
          containerId: 'c1',
          target: `127.0.0.1:${app.port}`,
          path: '/',
          timeoutMs: 5000,
          signal: new AbortController().signal,
          known: { running: true, oomKilled: false, exitCode: 0 },
        },
      );
    } finally {
      app.stop(true);
    }
    expect(inspects).toBeGreaterThanOrEqual(1);
  });

  test('fails at once on a known state of an exited container, without asking the engine', async () => {
    let inspects = 0;
    const check = waitHealthy(
      engine(() => {
        inspects++;
        return { Running: true };
      }),
      {
        containerId: 'c1',
        target: `127.0.0.1:${freePort()}`,
        path: '/',
        timeoutMs: 5000,
        signal: new AbortController().signal,
        known: { running: false, oomKilled: false, exitCode: 7 },
      },
    );
    await expect(check).rejects.toMatchObject({ exitCode: 7 });
    expect(inspects).toBe(0);
  });
});
