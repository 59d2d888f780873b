/**
 * `/v1/health` is what systemd, scripts and benchmarks wait for, so its first 200 must mean the
 * agent serves: the database is open and every API route answers. The agent is polled from its
 * spawn as fast as it can answer, and the moment health first says 200, requests to other routes
 * (authenticated reads, a write, an unknown route, an unauthenticated one) are sent at once and
 * must all get their right answer; none may be refused, wrong, or wait for the housekeeping.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = resolve(import.meta.dir, '../../src/main.ts');
function freePort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** A spawned agent on an empty data directory, with the API engine `engine` (SLIPWAY_API_ENGINE). */
interface Agent {
  api: string;
  dataDir: string;
  proc: ReturnType<typeof Bun.spawn>;
}

const agents: Agent[] = [];

function spawnAgent(engine: 'serve' | 'native'): Agent {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-first-answer-'));
  const port = freePort();
  const proc = Bun.spawn(
    [
      process.execPath,
      MAIN,
      'serve',
      '--data-dir',
      dataDir,
      '--api-listen',
      `127.0.0.1:${port}`,
      '--http-listen',
      '127.0.0.1:0',
    ],
    {
      env: { ...process.env, SLIPWAY_ACME_DIRECTORY: 'off', SLIPWAY_LOG_LEVEL: 'warn', SLIPWAY_API_ENGINE: engine },
      stdout: 'ignore',
      stderr: 'pipe',
    },
  );
  const agent = { api: `http://127.0.0.1:${port}`, dataDir, proc };
  agents.push(agent);
  return agent;
}

afterAll(async () => {
  for (const { proc, dataDir } of agents) {
    proc.kill('SIGTERM');
    await proc.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** Polls health every millisecond until its first 200; returns its body and what was answered before it. */
async function firstHealth({
  api,
  proc,
}: Agent): Promise<{ body: Record<string, unknown>; remaining: number; earlier: number[] }> {
  const earlier: number[] = [];
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${api}/v1/health`).catch(() => null);
    if (res?.status === 200) {
      const remaining = Number(res.headers.get('x-ratelimit-remaining'));
      return { body: (await res.json()) as Record<string, unknown>, remaining, earlier };
    }
    if (res) earlier.push(res.status);
    if (proc.exitCode !== null || Date.now() > deadline)
      throw new Error(`serve did not answer (exit ${proc.exitCode})`);
    await Bun.sleep(1);
  }
}

for (const engine of ['serve', 'native'] as const) {
  describe(`serve (API engine ${engine}) from an empty data directory`, () => {
    test('answers its first health 200 only when every route answers, and nothing else before it', async () => {
      const agent = spawnAgent(engine);
      const { api, dataDir } = agent;
      const { body, remaining, earlier } = await firstHealth(agent);
      const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      const auth = { authorization: `Bearer ${token}` };
      const [me, projects, created, unknown, anonymous] = await Promise.all([
        fetch(`${api}/v1/me`, { headers: auth }),
        fetch(`${api}/v1/projects`, { headers: auth }),
        fetch(`${api}/v1/projects`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'first' }),
        }),
        fetch(`${api}/v1/no-such-route`, { headers: auth }),
        fetch(`${api}/v1/projects`),
      ]);
      expect(earlier).toEqual([]);
      expect(body).toMatchObject({ version: expect.any(String), database: { ok: true } });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ name: 'admin', scope: 'admin' });
      expect(projects.status).toBe(200);
      expect(await projects.json()).toEqual({ data: [], pagination: { next_cursor: null, has_more: false } });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ name: 'first' });
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      // Health answers before the whole app is built (src/api/early.ts); both count against one limiter.
      expect(Number(anonymous.headers.get('x-ratelimit-remaining'))).toBe(remaining - 1);
      // The project written through the API is there for the next read.
      const [again, head, spec] = await Promise.all([
        fetch(`${api}/v1/projects/first`, { headers: auth }),
        fetch(`${api}/v1/health`, { method: 'HEAD' }),
        fetch(`${api}/v1/openapi.json`),
      ]);
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ name: 'first' });
      expect(head.status).toBe(200);
      expect(spec.status).toBe(200);
      expect(Object.keys(((await spec.json()) as { paths: object }).paths)).toContain('/v1/projects/{name}');
    });
  });
}
