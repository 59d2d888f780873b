import { describe, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { createDeps } from '../../src/deps.ts';
import { runCli } from './harness.ts';

const TOKEN = /^slw_[0-9A-Za-z]{38}\n$/;

function tokensIn(dataDir: string): { name: string; scope: string; projects: string[] | null }[] {
  const deps = createDeps(loadConfig({ SLIPWAY_DATA_DIR: dataDir, SLIPWAY_LOG_LEVEL: 'error' }));
  try {
    return deps.tokens.list({ limit: 100 }).data.map((t) => ({ name: t.name, scope: t.scope, projects: t.projects }));
  } finally {
    deps.close();
  }
}

describe('tokens create without the agent', () => {
  test('--data-dir mints the token in that data directory and prints it alone on stdout', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-tokens-'));
    const r = await runCli(
      ['tokens', 'create', '--name', 'ci', '--scope', 'deploy', '--project', 'web', '--data-dir', dataDir],
      { env: { SLIPWAY_URL: 'http://127.0.0.1:9', SLIPWAY_TOKEN: 'slw_x' } },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(TOKEN);
    expect(r.stderr).toMatch(/^Created token tok_\w+ "ci" with scope deploy for web\. It is shown once:\n$/);
    expect(tokensIn(dataDir)).toEqual([{ name: 'ci', scope: 'deploy', projects: ['web'] }]);
  });

  test('with no agent or login configured, works in SLIPWAY_DATA_DIR', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'slipway-tokens-'));
    const r = await runCli(['tokens', 'create', '--name', 'rescue', '--scope', 'admin'], {
      env: { SLIPWAY_DATA_DIR: dataDir, SLIPWAY_LOG_LEVEL: 'error' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(TOKEN);
    expect(tokensIn(dataDir)).toEqual([{ name: 'rescue', scope: 'admin', projects: null }]);
  });
});
