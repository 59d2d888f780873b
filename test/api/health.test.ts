import { describe, expect, test } from 'bun:test';
import { makeTestApp } from '../helpers/app.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';

const hasDocker = await requireDocker();

type Health = {
  status: string;
  version: string;
  uptime_seconds: number;
  database: { ok: boolean };
  docker: { ok: boolean; version: string | null; error: string | null };
};

describe('GET /v1/health', () => {
  test.skipIf(!hasDocker)("reports ok with the real Docker engine's version", async () => {
    const t = makeTestApp();
    try {
      const res = await t.req('GET', '/v1/health', { token: null });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Health;
      const engine = (await dockerClient().version()) as { Version: string };
      expect(body).toMatchObject({
        status: 'ok',
        version: '0.1.0',
        database: { ok: true },
        docker: { ok: true, version: engine.Version, error: null },
      });
      expect(body.uptime_seconds).toBeGreaterThanOrEqual(0);
    } finally {
      t.close();
    }
  });

  test('reports degraded, not an error, when the engine cannot be reached', async () => {
    const t = makeTestApp({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    try {
      const res = await t.req('GET', '/v1/health', { token: null });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Health;
      expect(body.status).toBe('degraded');
      expect(body.database.ok).toBe(true);
      expect(body.docker.ok).toBe(false);
      expect(body.docker.error).toContain('/nonexistent/docker.sock');
    } finally {
      t.close();
    }
  });

  test('reports degraded within its timeout when the engine does not answer', async () => {
    // A listening socket that never answers: the ping must give up instead of hanging.
    const silent = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
    const t = makeTestApp({ DOCKER_HOST: `tcp://127.0.0.1:${silent.port}` });
    try {
      const started = performance.now();
      const body = (await (await t.req('GET', '/v1/health', { token: null })).json()) as Health;
      expect(body.docker).toEqual({ ok: false, version: null, error: 'no answer within 2000 ms' });
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      t.close();
      silent.stop(true);
    }
  });
});
