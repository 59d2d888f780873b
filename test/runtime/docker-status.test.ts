import { describe, expect, test } from 'bun:test';
import type Docker from 'dockerode';
import { dockerStatusCache } from '../../src/runtime/docker.ts';

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
