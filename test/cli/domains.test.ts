/**
 * `slipway domains …` against a running agent (`slipway serve` as a process) that resolves through
 * a real DNS server: add, list, show, verify, update and rm, their output and exit codes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { domainRepo } from '../../src/db/domains.ts';
import { openDatabase } from '../../src/db/open.ts';
import { removeDataDir, startAgent, type Agent } from '../helpers/agent.ts';
import { startTestDns, type TestDns } from '../domains/dns-server.ts';
import { NOW, runCli } from './harness.ts';

let dns: TestDns;
let agent: Agent;
const cli = (args: string[]) => runCli(args, { env: { SLIPWAY_URL: agent.api, SLIPWAY_TOKEN: agent.token } });

beforeAll(async () => {
  dns = await startTestDns();
  await dns.addA('good.example.test', ['127.0.0.1']);
  agent = await startAgent({
    env: { SLIPWAY_DNS_SERVERS: dns.server, SLIPWAY_PUBLIC_IPS: '127.0.0.1', SLIPWAY_ACME_DIRECTORY: 'off' },
  });
  expect((await agent.call('POST', '/v1/projects', { name: 'web' })).status).toBe(201);
});
afterAll(async () => {
  await agent?.stop();
  if (agent) removeDataDir(agent.dataDir);
  await dns?.stop();
});

describe('slipway domains against a running agent', () => {
  test('add prints the status, the reason and the DNS records to create', async () => {
    const r = await cli(['domains', 'add', 'Shop.Example.test', '-p', 'web']);
    expect(r).toMatchObject({ code: 0, stdout: 'Added shop.example.test to web: pending_dns\n' });
    expect(r.stderr).toBe(
      [
        'No A, AAAA or CNAME record found for shop.example.test: create an A record for shop.example.test pointing to 127.0.0.1',
        'Create these DNS records, then run `slipway domains verify` (the agent also checks by itself):',
        '  A    shop.example.test  127.0.0.1',
        '',
      ].join('\n'),
    );
  });

  test('add of a name that already points here says it is verified and why no certificate is ordered', async () => {
    const r = await cli(['domains', 'add', 'good.example.test', '-p', 'web', '--no-redirect', '--hsts']);
    expect(r).toMatchObject({ code: 0, stdout: 'Added good.example.test to web: verified\n' });
    expect(r.stderr).toStartWith('No certificate is ordered: the edge has no HTTPS listener');
  });

  test('add refuses what the API refuses, with its message and exit code 1', async () => {
    const ip = await cli(['domains', 'add', '203.0.113.7', '-p', 'web']);
    expect(ip.code).toBe(1);
    expect(ip.stderr).toContain(
      'Cannot add "203.0.113.7": an IP address is not a host name: point a host name at this server and add that',
    );
    const taken = await cli(['domains', 'add', 'shop.example.test', '-p', 'web']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('Cannot add "shop.example.test": project "web" already has it');
  });

  test('list shows every domain with its status and what was found', async () => {
    const r = await cli(['domains', 'list', '-p', 'web']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^HOSTNAME\s+STATUS\s+CERTIFICATE\s+FOUND\s+CHECKED$/);
    expect(lines[1]).toMatch(/^good\.example\.test\s+verified\s+-\s+points to 127\.0\.0\.1\s+/);
    expect(lines[2]).toMatch(/^shop\.example\.test\s+pending_dns\s+-\s+no A, AAAA or CNAME record found\s+/);
    const json = await cli(['domains', 'ls', '-p', 'web', '--json']);
    expect((JSON.parse(json.stdout) as { hostname: string }[]).map((d) => d.hostname)).toEqual([
      'good.example.test',
      'shop.example.test',
    ]);
  });

  test('show prints the domain, the DNS records to create and the last check', async () => {
    const r = await cli(['domains', 'show', 'shop.example.test', '-p', 'web']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^hostname: +shop\.example\.test$/m);
    expect(r.stdout).toMatch(/^status: +pending_dns$/m);
    expect(r.stdout).toMatch(/^options: +redirect to HTTPS, no HSTS$/m);
    expect(r.stdout).toMatch(/^last check: +no A, AAAA or CNAME record found \(dns, /m);
    expect(r.stdout).toEndWith('\nDNS records to create:\n  A    shop.example.test  127.0.0.1\n');
    const good = JSON.parse((await cli(['domains', 'show', 'good.example.test', '-p', 'web', '--json'])).stdout);
    expect(good).toMatchObject({ redirect_to_https: false, hsts: true, last_check: { method: 'dns' } });
    expect(Date.parse(good.created_at)).toBeGreaterThan(NOW);
  });

  test('verify exits 1 while the name does not reach this server, and 0 once it does', async () => {
    const pending = await cli(['domains', 'verify', 'shop.example.test', '-p', 'web']);
    expect(pending.code).toBe(1);
    expect(pending.stdout).toBe('shop.example.test: pending_dns (no A, AAAA or CNAME record found)\n');
    expect(pending.stderr).toContain('No A, AAAA or CNAME record found for shop.example.test');
    await dns.addA('shop.example.test', ['127.0.0.1']);
    const ok = await cli(['domains', 'verify', 'shop.example.test', '-p', 'web']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('shop.example.test: verified (points to 127.0.0.1)\n');
  });

  test('update changes the options; without any it is a usage error', async () => {
    const r = await cli(['domains', 'update', 'shop.example.test', '-p', 'web', '--hsts', '--no-redirect']);
    expect(r).toMatchObject({ code: 0, stdout: 'Updated shop.example.test: no redirect, HSTS\n' });
    const none = await cli(['domains', 'update', 'shop.example.test', '-p', 'web']);
    expect(none.code).toBe(2);
  });

  test('rm removes a domain; show of it then fails with 404', async () => {
    const r = await cli(['domains', 'rm', 'shop.example.test', '-p', 'web']);
    expect(r).toMatchObject({ code: 0, stdout: 'Removed shop.example.test from web\n' });
    const gone = await cli(['domains', 'show', 'shop.example.test', '-p', 'web']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('No domain "shop.example.test" in project "web"');
    await cli(['domains', 'rm', 'good.example.test', '-p', 'web']);
    expect((await cli(['domains', 'list', '-p', 'web'])).stdout).toBe('No domains on web\n');
  });
});

describe('slipway domains with a deploy token', () => {
  test('add and show print the ownership TXT record beside the address record', async () => {
    await dns.addA('tenant.example.test', ['127.0.0.1']);
    const minted = (await (
      await agent.call('POST', '/v1/tokens', { name: 'cli-deployer', scope: 'deploy' })
    ).json()) as { token: string };
    const env = { SLIPWAY_URL: agent.api, SLIPWAY_TOKEN: minted.token };
    const r = await runCli(['domains', 'add', 'tenant.example.test', '-p', 'web'], { env });
    expect(r).toMatchObject({ code: 0, stdout: 'Added tenant.example.test to web: pending_dns\n' });
    const value = /slipway-verification=([0-9a-z]{32})/.exec(r.stderr)?.[0];
    expect(value).toBeDefined();
    expect(r.stderr).toBe(
      [
        `tenant.example.test points to this server, but its ownership is not proven: create a TXT record for _slipway-challenge.tenant.example.test with the value ${value}`,
        'Create these DNS records, then run `slipway domains verify` (the agent also checks by itself):',
        '  A    tenant.example.test  127.0.0.1',
        `  TXT  _slipway-challenge.tenant.example.test  ${value}`,
        '',
      ].join('\n'),
    );
    const shown = await runCli(['domains', 'show', 'tenant.example.test', '-p', 'web'], { env });
    expect(shown.stdout).toEndWith(
      `\nDNS records to create:\n  A    tenant.example.test  127.0.0.1\n  TXT  _slipway-challenge.tenant.example.test  ${value}\n`,
    );
    expect((await runCli(['domains', 'rm', 'tenant.example.test', '-p', 'web'], { env })).code).toBe(0);
  });
});

describe('slipway serve', () => {
  test('runs the domain checker: a domain that falls due is checked in the background, and serve stops cleanly', async () => {
    await dns.addA('later.example.test', ['127.0.0.1']);
    const db = openDatabase(join(agent.dataDir, 'slipway.db'));
    try {
      const project = db.prepare("SELECT id FROM projects WHERE name = 'web'").get() as { id: string };
      const at = new Date().toISOString();
      domainRepo(db).insert({
        id: 'dom_later',
        project_id: project.id,
        hostname: 'later.example.test',
        redirect_to_https: 1,
        hsts: 0,
        status: 'pending_dns',
        reason: 'No A, AAAA or CNAME record found for later.example.test',
        attempts: 3,
        next_attempt_at: at,
        last_check: null,
        ownership_token: null,
        proven_at: null,
        created_at: at,
        updated_at: at,
      });
    } finally {
      db.close();
    }
    const deadline = Date.now() + 15_000;
    let status = '';
    while (status !== 'verified' && Date.now() < deadline) {
      await Bun.sleep(200);
      status = (
        (await (await agent.call('GET', '/v1/projects/web/domains/later.example.test')).json()) as { status: string }
      ).status;
    }
    expect(status).toBe('verified');
    expect(await agent.stop()).toBe(0);
  });
});
