import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { consoleUrl } from '../../src/cli/console-link.ts';
import { createDeps } from '../../src/deps.ts';
import { createApp } from '../../src/app.ts';
import { runCli } from '../cli/harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'slipway-console-link-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('console-link prints a one-time link to the console that signs in once, as admin', async () => {
  const env = { SLIPWAY_DATA_DIR: dir, SLIPWAY_API_LISTEN: '127.0.0.1:7071', SLIPWAY_ACME_DIRECTORY: 'off' };
  const printed = await runCli(['console-link'], { env });
  expect(printed.code).toBe(0);
  const url = printed.stdout.trim();
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:7071\/console\/#link=[0-9a-z]{43}$/);
  expect(printed.stderr).toContain('ssh -L 7071:127.0.0.1:7071');
  const code = url.split('#link=')[1]!;

  // The agent, on the same data directory.
  const deps = createDeps(loadConfig({ ...env, SLIPWAY_RATE_LIMIT_IP: '1000' }));
  try {
    const app = createApp(deps);
    const signIn = () =>
      app.handle(
        new Request('http://127.0.0.1:7071/v1/sessions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', 'x-slipway-csrf': '1' },
          body: JSON.stringify({ link: code }),
        }),
      );
    const first = await signIn();
    expect(first.status).toBe(201);
    expect(((await first.json()) as { principal: { scope: string } }).principal.scope).toBe('admin');
    expect((await signIn()).status).toBe(401);
  } finally {
    deps.close();
  }
});

test('the link names the API domain over HTTPS when there is one, and a loopback address for a wildcard', () => {
  expect(consoleUrl({ apiDomain: 'ops.example.com', apiListen: { hostname: '127.0.0.1', port: 7070 } })).toBe(
    'https://ops.example.com/console/',
  );
  expect(consoleUrl({ apiDomain: null, apiListen: { hostname: '0.0.0.0', port: 7070 } })).toBe(
    'http://127.0.0.1:7070/console/',
  );
  expect(consoleUrl({ apiDomain: null, apiListen: { hostname: '::1', port: 7070 } })).toBe(
    'http://[::1]:7070/console/',
  );
});
