import { describe, expect, test } from 'bun:test';
import type Docker from 'dockerode';
import { dockerStatusCache, engineVersion, lazyDockerClient, pingDocker } from '../../src/runtime/docker.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';

/** An engine stand-in that counts version calls; each answers after `delayMs` with the call's number. */
function countingEngine(delayMs = 5) {
  let calls = 0;
  const docker = {
    version: async () => {
      calls++;
      const n = calls;
      await Bun.sleep(delayMs);
      return { Version: `v${n}` };
    },
  } as unknown as Docker;
  return { docker, calls: () => calls };
}

describe('the engine status of /v1/health', () => {
  test('asks the engine once for callers that arrive while a ping is in flight', async () => {
    const engine = countingEngine();
    const status = dockerStatusCache(engine.docker, 1000);
    const answers = await Promise.all(Array.from({ length: 20 }, () => status()));
    expect(engine.calls()).toBe(1);
    for (const a of answers) expect(a).toEqual({ ok: true, version: 'v1', error: null });
  });

  test('reuses an answer for its maximum age, then asks again', async () => {
    const engine = countingEngine(1);
    const status = dockerStatusCache(engine.docker, 50);
    expect((await status()).version).toBe('v1');
    expect((await status()).version).toBe('v1');
    expect(engine.calls()).toBe(1);
    await Bun.sleep(60);
    expect((await status()).version).toBe('v2');
    expect(engine.calls()).toBe(2);
  });

  test('reuses a failed ping for its maximum age too, so callers cannot make the agent retry at their pace', async () => {
    let calls = 0;
    const docker = {
      version: async () => {
        calls++;
        throw new Error('connect ENOENT /nonexistent/docker.sock');
      },
    } as unknown as Docker;
    const status = dockerStatusCache(docker, 1000);
    for (let i = 0; i < 5; i++) {
      const answer = await status();
      expect(answer.ok).toBe(false);
      expect(answer.error).toContain('ENOENT');
    }
    expect(calls).toBe(1);
  });
});

describe("the engine's version as health asks it", () => {
  test('is what dockerode reads from the same engine', async () => {
    if (!(await requireDocker())) throw new Error('these tests need a Docker engine');
    const [plain, viaDockerode] = await Promise.all([
      engineVersion({ dockerHost: null }).version(),
      dockerClient().version(),
    ]);
    expect((plain as { Version: string }).Version).toBe(viaDockerode.Version);
  });

  test('names the socket it could not reach', async () => {
    const status = await pingDocker(engineVersion({ dockerHost: 'unix:///nonexistent/docker.sock' }));
    expect(status).toEqual({ ok: false, version: null, error: 'connect ENOENT /nonexistent/docker.sock' });
  });

  test('takes an error status from a tcp address as a failed ping, naming the address', async () => {
    const engine = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('no', { status: 500 }) });
    try {
      const status = await pingDocker(engineVersion({ dockerHost: `tcp://127.0.0.1:${engine.port}` }));
      expect(status).toEqual({
        ok: false,
        version: null,
        error: `the engine at 127.0.0.1:${engine.port} answered 500`,
      });
    } finally {
      engine.stop(true);
    }
  });

  test('reads the version from a tcp address', async () => {
    const engine = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: (req) => Response.json({ Version: new URL(req.url).pathname === '/version' ? '99.1' : 'wrong path' }),
    });
    try {
      const status = await pingDocker(engineVersion({ dockerHost: `tcp://127.0.0.1:${engine.port}` }));
      expect(status).toEqual({ ok: true, version: '99.1', error: null });
    } finally {
      engine.stop(true);
    }
  });
});

describe('the Docker client the agent is wired with', () => {
  test('is made by its first use, once, and answers as the client it made', async () => {
    if (!(await requireDocker())) throw new Error('these tests need a Docker engine');
    let made = 0;
    const lazy = lazyDockerClient(() => {
      made++;
      return dockerClient();
    });
    expect(made).toBe(0);
    const [version, containers] = await Promise.all([lazy.version(), lazy.listContainers({ limit: 1 })]);
    expect(made).toBe(1);
    expect(version.Version).toBe((await dockerClient().version()).Version);
    expect(Array.isArray(containers)).toBe(true);
    // Objects it hands out work on their own (a container's methods call the client's modem).
    expect(typeof lazy.modem.demuxStream).toBe('function');
    expect(
      await lazy
        .getImage('slipway-no-such-image:never')
        .inspect()
        .catch((err) => err.statusCode),
    ).toBe(404);
    expect(made).toBe(1);
  });
});
