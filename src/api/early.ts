/**
 * The API's listener, up before the whole app is built. Evaluating the route modules and building
 * the Elysia app (its ~80 routes, each added by its plugin, the `/v1` group and the app) took about
 * half of `serve`'s CPU before its first answer, and none of it is needed to say whether the agent is
 * healthy. So `serve` listens with a health-only app, whose one route the fast lane answers, and the
 * whole app is built on the first request for anything else (that request waits for it) or
 * `buildAfterMs` after listening, whichever comes first. Once built, the server is switched to the
 * whole app's handler and lane, as `app.listen()` would have served them; both apps admit requests
 * through the same admission, so they count against the same limits.
 */
import type { AnyElysia } from 'elysia';
import { websocket } from 'elysia/ws';
import type { Server } from 'bun';
import type { Db } from '../db/open.ts';
import type { DockerStatus } from '../runtime/docker.ts';
import type { Admit } from './admission.ts';
import { apiShell, type ShellDeps } from './shell.ts';
import { healthRoutes } from './health/routes.ts';
import { fastLaneRoutes, type Handler, installedLane, type LaneDeps, laneReads } from './fast-lane/lane.ts';
import { ApiFront } from './front/front.ts';
import { errorResponse } from './errors.ts';
import { newRequestId } from '../ids.ts';

/** What the health-only app needs: the shell's wiring and health's own. */
export interface EarlyDeps extends ShellDeps {
  db: Db;
  dockerStatus(): Promise<DockerStatus>;
  startedAt: number;
}

/** Where and how the API listens. */
export interface ApiListenOptions {
  hostname: string;
  port: number;
  maxRequestBodySize: number;
  /** Bun.serve on the port itself, or the front on it and Bun.serve on a loopback port behind it (src/api/front). */
  engine: 'serve' | 'native';
}

/** The API's listening server and its whole app. */
export interface ApiListener {
  /** The port it listens on (the one asked for, or the one given for port 0). */
  port: number;
  /** The whole app, built by this call if it was not yet. */
  app(): Promise<AnyElysia>;
  /** Rejects when the whole app could not be built: the agent cannot serve its API and must stop. */
  failed: Promise<never>;
  /** Stops listening; requests in flight finish. */
  stop(): Promise<void>;
  /** How many requests the front answered itself; 0 without one (engine `serve`). */
  frontAnswered(): number;
}

/** Listens at once with the health-only app; the whole app comes from `build` on first need or after `buildAfterMs`. */
export function listenApi(
  deps: EarlyDeps,
  admit: Admit,
  options: ApiListenOptions,
  build: () => Promise<AnyElysia>,
  buildAfterMs: number,
): ApiListener {
  let reportFailure: (err: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (reportFailure = reject));
  failed.catch(() => {});
  let whole: Promise<AnyElysia> | null = null;
  const app = () => {
    whole ??= build().then(
      (built) => switchTo(built),
      (err: unknown) => {
        reportFailure(err);
        throw err;
      },
    );
    return whole;
  };
  const untilBuilt: Handler = (request) =>
    app().then(
      (built) => built.fetch(request),
      // The agent is stopping (`failed`); the build's error is reported there, not to each caller.
      () => {
        const requestId = newRequestId();
        return errorResponse('internal_error', 'The API could not start', requestId, undefined, {
          'x-request-id': requestId,
        });
      },
    );
  const health = apiShell(deps, admit, () => [], []).group('/v1', (v1) => v1.use(healthRoutes(deps)));
  const native = options.engine === 'native';
  const serveOptions = {
    // Behind the front, Bun.serve listens where only this host can reach it; the front pipes to it.
    hostname: native ? '127.0.0.1' : options.hostname,
    port: native ? 0 : options.port,
    maxRequestBodySize: options.maxRequestBodySize,
    // Elysia's listen() defaults, kept: the same behaviour as when it listened itself.
    reusePort: true,
    idleTimeout: 30,
    // No development error pages: every error is answered in the API's envelope by the app or the lane.
    development: false,
    // Elysia's WebSocket handlers dispatch each socket's events to the handlers on its data (exec).
    websocket,
    routes: fastLaneRoutes(health, ['/v1/health'], { admit, log: deps.log }, untilBuilt),
    fetch: untilBuilt,
  } as Parameters<typeof Bun.serve>[0];
  const server = Bun.serve(serveOptions) as Server<unknown>;
  const front = native ? frontOf(server, health, { admit, log: deps.log }) : null;
  let port = server.port!;
  if (front) {
    try {
      port = front.listen(options.hostname, options.port);
    } catch (err) {
      void server.stop(true);
      throw err;
    }
  }
  const switchTo = (built: AnyElysia): AnyElysia => {
    // What a route's context calls `server` (the exec route's WebSocket upgrade) is the app's.
    built.server = server as never;
    const routes = (built.config.serve as { routes?: Record<string, unknown> } | undefined)?.routes ?? {};
    server.reload({ ...serveOptions, routes, fetch: built.fetch } as typeof serveOptions);
    front?.use(installedLane(built) ?? { reads: [], handOn: [] });
    return built;
  };
  const timer = setTimeout(() => void app().catch(() => {}), buildAfterMs);
  return {
    port,
    app,
    failed,
    frontAnswered: () => front?.answered ?? 0,
    stop: async () => {
      clearTimeout(timer);
      front?.stop();
      await server.stop();
    },
  };
}

/** The front before `server`, answering the health-only app's one read until the whole app is built. */
function frontOf(server: Server<unknown>, health: AnyElysia, deps: LaneDeps): ApiFront {
  return new ApiFront({ port: server.port!, server }, laneReads(health, ['/v1/health'], deps));
}
