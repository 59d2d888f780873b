import { Elysia, t } from 'elysia';
import type { Db } from '../../db/open.ts';
import type { DockerStatus } from '../../runtime/docker.ts';
import { VERSION } from '../../version.ts';
import { accessPlugin } from '../access.ts';
import { errors } from '../schemas.ts';

const Health = t.Object({
  status: t.Union([t.Literal('ok'), t.Literal('degraded')]),
  version: t.String(),
  uptime_seconds: t.Integer(),
  database: t.Object({ ok: t.Boolean() }),
  docker: t.Object({
    ok: t.Boolean(),
    version: t.Union([t.String(), t.Null()]),
    error: t.Union([t.String(), t.Null()]),
  }),
});

/** GET /v1/health: public liveness and dependency status; degraded, not failed, without Docker. */
export function healthRoutes(deps: { db: Db; dockerStatus: () => Promise<DockerStatus>; startedAt: number }) {
  return new Elysia().use(accessPlugin).get(
    '/health',
    async () => {
      const docker = await deps.dockerStatus();
      const database = { ok: databaseOk(deps.db) };
      return {
        status: docker.ok && database.ok ? ('ok' as const) : ('degraded' as const),
        version: VERSION,
        uptime_seconds: Math.floor((Date.now() - deps.startedAt) / 1000),
        database,
        docker,
      };
    },
    {
      access: 'public',
      detail: { summary: 'Agent health', tags: ['System'] },
      response: { 200: Health, ...errors(429, 500) },
    },
  );
}

function databaseOk(db: Db): boolean {
  try {
    return db.prepare('SELECT 1 AS ok').get() !== undefined;
  } catch {
    return false;
  }
}
