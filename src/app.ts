import type { Deps } from './deps.ts';
import { ACCESS_EXTENSION } from './api/access.ts';
import type { Admit } from './api/admission.ts';
import { apiAdmission, apiShell } from './api/shell.ts';
import { installFastLane } from './api/fast-lane/lane.ts';
import { activityRoutes } from './api/activity/routes.ts';
import { docsRoutes, DOC_PLUGIN_ROUTES } from './api/docs/routes.ts';
import { healthRoutes } from './api/health/routes.ts';
import { meRoutes } from './api/me/routes.ts';
import { projectRoutes } from './api/projects/routes.ts';
import { tokenRoutes } from './api/tokens/routes.ts';
import { deploymentRoutes, UPLOAD_PATHS } from './api/deployments/routes.ts';
import { lifecycleRoutes } from './api/projects/lifecycle-routes.ts';
import { envRoutes } from './api/env/routes.ts';
import { observeRoutes } from './api/observe/routes.ts';
import { metricsRoutes } from './api/metrics/routes.ts';
import { databaseRoutes, RESTORE_PATHS } from './api/databases/routes.ts';
import { VOLUME_RESTORE_PATHS, volumeRoutes } from './api/volumes/routes.ts';
import { backupRoutes } from './api/backups/routes.ts';
import { domainRoutes } from './api/domains/routes.ts';
import { certificateRoutes } from './api/certificates/routes.ts';
import { registryRoutes } from './api/registries/routes.ts';
import { webhookRoutes } from './api/webhooks/routes.ts';
import { opsRoutes } from './api/ops/routes.ts';
import { sessionRoutes } from './api/sessions/routes.ts';
import { consoleRoutes, overviewRoutes } from './api/console/routes.ts';
import { projectOverview } from './console/overview.ts';
import { execRoutes } from './api/exec/routes.ts';
import { llmsRoutes } from './api/docs/llms.ts';
import { nodeRoutes } from './api/nodes/routes.ts';

/**
 * The Elysia app of the API, without listen(): tests call `.handle()` on it. `admit` is the
 * admission its requests go through; serve passes the one its health-only app already uses
 * (src/api/early.ts), so that both count against the same limits.
 */
export function createApp(deps: Deps, admit: Admit = apiAdmission(deps)) {
  let matchers: { method: string; pattern: RegExp }[] = [];
  const allowedMethods = (path: string) =>
    [...new Set(matchers.filter((m) => m.pattern.test(path)).map((m) => m.method))].sort();

  const app = apiShell(deps, admit, allowedMethods, [...UPLOAD_PATHS, ...RESTORE_PATHS, ...VOLUME_RESTORE_PATHS])
    .use(docsRoutes())
    .use(metricsRoutes(deps))
    .use(consoleRoutes())
    .use(llmsRoutes())
    .group('/v1', (v1) =>
      v1
        .use(healthRoutes(deps))
        .use(meRoutes())
        .use(tokenRoutes(deps))
        .use(projectRoutes(deps))
        .use(deploymentRoutes(deps))
        .use(lifecycleRoutes(deps))
        .use(envRoutes(deps))
        .use(observeRoutes(deps))
        .use(databaseRoutes(deps))
        .use(volumeRoutes(deps))
        .use(backupRoutes(deps))
        .use(domainRoutes(deps))
        .use(certificateRoutes(deps))
        .use(activityRoutes(deps))
        .use(registryRoutes(deps))
        .use(webhookRoutes(deps))
        .use(opsRoutes(deps))
        .use(sessionRoutes(deps))
        .use(
          overviewRoutes({ overview: projectOverview(deps.db, deps.config.baseDomain, deps.config.httpListen.port) }),
        )
        .use(execRoutes(deps))
        .use(nodeRoutes(deps)),
    );

  assertEveryRouteHasAccess(app.routes);
  matchers = app.routes.map((r) => ({ method: r.method, pattern: pathPattern(r.path) }));
  installFastLane(app, FAST_READS, { admit, log: deps.log });
  return app;
}

/** The hot GET reads Bun's router answers without Elysia's per-request context (src/api/fast-lane). */
export const FAST_READS = ['/v1/projects/:name', '/v1/me', '/v1/projects/:name/deployments/:id', '/v1/health'];

/** The API app's type. */
export type App = ReturnType<typeof createApp>;

/** Fails closed: a route registered without an `access` rule stops Slipway from starting. */
export function assertEveryRouteHasAccess(routes: readonly { method: string; path: string; hooks?: unknown }[]): void {
  const missing = routes
    .filter((r) => !DOC_PLUGIN_ROUTES.has(`${r.method} ${r.path}`))
    .filter((r) => !(r.hooks as { detail?: Record<string, unknown> })?.detail?.[ACCESS_EXTENSION])
    .map((r) => `${r.method} ${r.path}`);
  if (missing.length > 0) throw new Error(`Routes without an access rule: ${missing.join(', ')}`);
}

function pathPattern(path: string): RegExp {
  const escaped = path
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}/?$`);
}
