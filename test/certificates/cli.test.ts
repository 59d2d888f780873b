import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Certificate } from '../../src/cli/api-types.ts';
import { fakeAgent, json, NOW, page, runCli } from '../cli/harness.ts';
import { project } from '../cli/samples.ts';

const DAY = 86_400_000;

function certificate(hostname: string, daysLeft: number, over: Partial<Certificate> = {}): Certificate {
  return {
    hostname,
    project: 'web',
    source: 'acme',
    issuer: 'R11',
    serial: '04A1',
    not_before: new Date(NOW - 30 * DAY).toISOString(),
    not_after: new Date(NOW + daysLeft * DAY + 3600_000).toISOString(),
    days_left: daysLeft,
    renew_at: new Date(NOW + (daysLeft - 30) * DAY).toISOString(),
    renewal: { failures: 0, last_error: null, next_attempt_at: null },
    ...over,
  };
}

const shop = certificate('shop.example.com', 59);
const failing = certificate('old.example.com', 9, {
  renewal: {
    failures: 3,
    last_error: 'The CA could not validate old.example.com: connection refused',
    next_attempt_at: '2026-01-02T05:00:00.000Z',
  },
});
const uploaded = certificate('*.apps.example.com', 12, { project: null, source: 'uploaded', renew_at: null });

const agent = fakeAgent({
  'GET /v1/health': () =>
    json({
      status: 'ok',
      version: '0.1.0',
      uptime_seconds: 60,
      database: { ok: true },
      docker: { ok: true, version: '27.0', error: null },
    }),
  'GET /v1/me': () => json({ id: 'tok_admin', name: 'admin', scope: 'admin', projects: null }),
  'GET /v1/projects': () => page([project('web')]),
  'GET /v1/projects/web/deployments': () => page([]),
  'GET /v1/certificates': () => page([uploaded, failing, shop]),
  'GET /v1/certificates/base-domain': () => json(uploaded),
  'PUT /v1/certificates/base-domain': () => json(uploaded),
  'POST /v1/projects/web/domains/shop.example.com/certificate/renew': () => json(shop),
  'PUT /v1/projects/web/domains/shop.example.com/certificate': () => json({ ...shop, source: 'uploaded' }),
  'DELETE /v1/projects/web/domains/shop.example.com/certificate': () => new Response(null, { status: 204 }),
});
afterAll(() => agent.stop());

const cli = (args: string[]) => runCli(args, { env: agent.env });
const sent = (method: string, path: string) => agent.received.filter((r) => r.method === method && r.path === path);

describe('certificates on the command line', () => {
  test('status lists each certificate with its days left and flags those under 14 days', async () => {
    const r = await cli(['status']);
    expect(r.code).toBe(0);
    const table = r.stdout.slice(r.stdout.indexOf('CERTIFICATE'));
    expect(table).toBe(
      [
        'CERTIFICATE         SOURCE    ISSUER  EXPIRES     DAYS LEFT          RENEWAL',
        `*.apps.example.com  uploaded  R11     ${uploaded.not_after.slice(0, 10)}  12 (expires soon)  never (uploaded)`,
        `old.example.com     acme      R11     ${failing.not_after.slice(0, 10)}  9 (expires soon)   failing (3×): The CA could not validate old.example.com: connection refused; next 2026-01-02T05:00:00.000Z`,
        `shop.example.com    acme      R11     ${shop.not_after.slice(0, 10)}  59                 at ${shop.renew_at!.slice(0, 10)}`,
        '',
      ].join('\n'),
    );
  });

  test('status against an agent without certificates still shows the rest', async () => {
    const older = fakeAgent({
      'GET /v1/health': () =>
        json({ status: 'ok', version: '0.1.0', uptime_seconds: 60, database: { ok: true }, docker: { ok: true } }),
      'GET /v1/me': () => json({ id: 'tok_admin', name: 'admin', scope: 'admin', projects: null }),
      'GET /v1/projects': () => page([]),
    });
    try {
      const r = await runCli(['status'], { env: older.env });
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain('CERTIFICATE');
    } finally {
      older.stop();
    }
  });

  test('certificates list --json prints what the API answered', async () => {
    const r = await cli(['certificates', 'list', '--json']);
    expect(JSON.parse(r.stdout)).toEqual([uploaded, failing, shop]);
  });

  test('domains renew asks the agent to renew now and shows the new certificate', async () => {
    const r = await cli(['domains', 'renew', 'shop.example.com', '-p', 'web']);
    expect(r.code).toBe(0);
    expect(sent('POST', '/v1/projects/web/domains/shop.example.com/certificate/renew')).toHaveLength(1);
    expect(r.stderr).toBe('Ordering a new certificate for shop.example.com…\n');
    expect(r.stdout).toContain('serial:   04A1');
  });

  test('domains certificate set uploads the two files; rm removes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-cert-'));
    writeFileSync(join(dir, 'cert.pem'), 'CERT PEM');
    writeFileSync(join(dir, 'key.pem'), 'KEY PEM');
    const r = await runCli(
      ['domains', 'certificate', 'set', 'shop.example.com', '-p', 'web', '--cert', 'cert.pem', '--key', 'key.pem'],
      { env: agent.env, cwd: dir },
    );
    expect(r.code).toBe(0);
    const [put] = sent('PUT', '/v1/projects/web/domains/shop.example.com/certificate');
    expect(JSON.parse(new TextDecoder().decode(put!.body))).toEqual({
      certificate: 'CERT PEM',
      private_key: 'KEY PEM',
    });

    const missing = await runCli(
      ['domains', 'certificate', 'set', 'shop.example.com', '-p', 'web', '--cert', 'nope.pem', '--key', 'key.pem'],
      { env: agent.env, cwd: dir },
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Cannot read the certificate file nope.pem: ENOENT');

    const rm = await cli(['domains', 'certificate', 'rm', 'shop.example.com', '-p', 'web']);
    expect(rm.code).toBe(0);
    expect(sent('DELETE', '/v1/projects/web/domains/shop.example.com/certificate')).toHaveLength(1);
  });

  test('certificates base-domain set uploads the wildcard', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-cert-'));
    writeFileSync(join(dir, 'c.pem'), 'W');
    writeFileSync(join(dir, 'k.pem'), 'K');
    const r = await runCli(['certificates', 'base-domain', 'set', '--cert', 'c.pem', '--key', 'k.pem'], {
      env: agent.env,
      cwd: dir,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('Uploaded the wildcard certificate for *.apps.example.com\n');
    expect(sent('PUT', '/v1/certificates/base-domain')).toHaveLength(1);
  });
});
