/**
 * The README's "Deploy your first app" walkthroughs, run as written against a real agent: the curl
 * one with bash, the CLI one with `slipway` on the PATH. Only what differs between a reader's
 * machine and a test is rewritten: the agent's random ports, the project name and the `<id>` a
 * reader copies from the upload's answer.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { retireAgent, startAgent, type Agent } from '../helpers/agent.ts';
import { requireDocker } from '../helpers/docker.ts';

const README = readFileSync(resolve(import.meta.dir, '../../README.md'), 'utf8');
const MAIN = resolve(import.meta.dir, '../../src/main.ts');
const hasDocker = await requireDocker();
let agent: Agent;
let work: string;

/** The first ```sh block after `heading`. */
function block(heading: string): string {
  const from = README.indexOf(`${heading}\n`);
  if (from === -1) throw new Error(`README has no "${heading}"`);
  return /```sh\n(.*?)\n```/s.exec(README.slice(from))![1]!;
}

/** The block with this test's ports and project name instead of the README's. */
function localise(script: string, project: string): string {
  const api = new URL(agent.api);
  return script
    .replaceAll('http://127.0.0.1:7070', agent.api)
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${agent.edgePort}`)
    .replace(/\bweb\b/g, project)
    .replace(/^/, `export SLIPWAY_API_LISTEN=127.0.0.1:${api.port}\n`);
}

async function bash(script: string): Promise<{ code: number; stdout: string; out: string }> {
  const proc = Bun.spawn(['bash', '-euo', 'pipefail', '-c', script], {
    cwd: work,
    env: { PATH: `${join(work, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: work },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout: out, out: out + err };
}

beforeAll(async () => {
  if (!hasDocker) return;
  work = mkdtempSync(join(tmpdir(), 'slipway-readme-'));
  // As after `npm start` in this directory: the agent's data in ./data, a site in ./my-site.
  agent = await startAgent({ dataDir: join(work, 'data') });
  mkdirSync(join(work, 'my-site'));
  writeFileSync(join(work, 'my-site', 'index.html'), '<h1>my site</h1>');
  mkdirSync(join(work, 'bin'));
  writeFileSync(join(work, 'bin', 'slipway'), `#!/bin/sh\nexec ${process.execPath} ${MAIN} "$@"\n`);
  chmodSync(join(work, 'bin', 'slipway'), 0o755);
});
afterAll(async () => {
  if (hasDocker) await retireAgent(agent, ['readme-curl', 'readme-cli']);
});

describe.skipIf(!hasDocker)("the README's first deploy", () => {
  test('with curl', async () => {
    const script = localise(block('## Deploy your first app with curl'), 'readme-curl').replace(
      '<id>',
      '$(curl -s -H "Authorization: Bearer $TOKEN" $API/v1/projects/readme-curl/deployments | grep -o "dep_[0-9a-z]*" | head -1)',
    );
    const r = await bash(script);
    expect(r.code).toBe(0);
    expect(r.out).toContain('event: end\ndata: {"status":"live","failure_reason":null}');
    expect(r.stdout).toEndWith('\n\n<h1>my site</h1>');
  });

  test('with the CLI, which finds the local agent and data/admin-token by itself', async () => {
    const script = localise(block('### The CLI'), 'readme-cli');
    expect(script).not.toContain('SLIPWAY_TOKEN');
    const r = await bash(script);
    // The whole output on failure, nothing on success.
    expect({ code: r.code, out: r.code === 0 ? '' : r.out }).toEqual({ code: 0, out: '' });
    expect(r.out).toContain('<h1>my site</h1>');
    expect(r.out).toContain('Deployment #1 of readme-cli is live at readme-cli.localhost');
    expect(r.out).toContain('Deployment #2 (env) of readme-cli is queued');
    expect(r.out).toContain('Deployment #3 (rollback) of readme-cli is queued');
    expect(r.out).toMatch(/\n3 +dep_\w+ +live +rollback /);
  });
});
