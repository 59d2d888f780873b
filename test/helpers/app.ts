import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { createDeps, type Deps, type DepsOptions } from '../../src/deps.ts';
import { createApp, type App } from '../../src/app.ts';
import type { Actor } from '../../src/activity/service.ts';
import type { NewToken } from '../../src/tokens/service.ts';
import { createLogger } from '../../src/log.ts';

/** The actor used when a test sets up state directly through a service. */
export const TEST_ACTOR: Actor = { tokenId: null, tokenName: 'test setup', requestId: null, clientIp: null };

/** An API app on a real temporary SQLite file, with an admin token, and a request helper. */
export interface TestApp {
  app: App;
  deps: Deps;
  dir: string;
  adminToken: string;
  /** Every line Slipway logged, JSON, debug level and up. */
  logLines: string[];
  /** Mints a token through the service and returns its secret. */
  token(t: NewToken): string;
  /** Sends a request through app.handle(); `body` objects are sent as JSON. */
  req(
    method: string,
    path: string,
    opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): void;
}

/** Builds a fresh app; `env` overrides settings (for example rate limits), `options` swaps parts. */
export function makeTestApp(env: Record<string, string> = {}, options: Omit<DepsOptions, 'log'> = {}): TestApp {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-test-'));
  const config = loadConfig({
    SLIPWAY_RATE_LIMIT_TOKEN: '100000',
    SLIPWAY_RATE_LIMIT_IP: '100000',
    // No test may reach a real CA: the ACME tests name their Pebble directory themselves.
    SLIPWAY_ACME_DIRECTORY: 'off',
    ...env,
    SLIPWAY_DATA_DIR: dir,
  });
  const logLines: string[] = [];
  const deps = createDeps(config, { ...options, log: createLogger('debug', (l) => void logLines.push(l)) });
  const app = createApp(deps);
  const token = (t: NewToken) => deps.tokens.mint(TEST_ACTOR, t).token;
  const adminToken = token({ name: 'admin', scope: 'admin' });
  return {
    app,
    deps,
    dir,
    adminToken,
    logLines,
    token,
    async req(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const bearer = opts.token === undefined ? adminToken : opts.token;
      if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
      let body: string | undefined;
      if (opts.body !== undefined) {
        body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      return app.handle(new Request(`http://localhost${path}`, { method, headers, body }));
    },
    close() {
      deps.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads a response that must be the error envelope and returns its `error` object. */
export async function errorOf(
  res: Response,
): Promise<{ code: string; message: string; request_id: string; issues?: { path: string; message: string }[] }> {
  const body = (await res.json()) as { error: { code: string; message: string; request_id: string } };
  if (!body.error || typeof body.error.code !== 'string' || typeof body.error.message !== 'string') {
    throw new Error(`not an error envelope: ${JSON.stringify(body)}`);
  }
  if (body.error.request_id !== res.headers.get('x-request-id')) {
    throw new Error(`request_id ${body.error.request_id} differs from X-Request-Id ${res.headers.get('x-request-id')}`);
  }
  return body.error;
}
