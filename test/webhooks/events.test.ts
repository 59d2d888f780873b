import { afterAll, beforeEach, describe, expect, test } from 'bun:test';
import { backupRepo, type BackupRow } from '../../src/db/backups.ts';
import { certificateRepo } from '../../src/db/certificates.ts';
import { domainRepo } from '../../src/db/domains.ts';
import { BuildStepFailed } from '../../src/deployments/failures.ts';
import type { SlipwayEvent } from '../../src/events/bus.ts';
import { makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { queueDeployment } from '../helpers/deployments.ts';

// The worker is not started: each test drains the bus itself and looks at what came out.
const t = makeTestApp();
t.deps.projects.create(TEST_ACTOR, { name: 'web' });
const seen: SlipwayEvent[] = [];
t.deps.events.subscribe((e) => void seen.push(e));
afterAll(() => t.close());
beforeEach(() => {
  t.deps.events.drain();
  seen.length = 0;
});
const drained = () => {
  t.deps.events.drain();
  return seen.map((e) => [e.type, e.project]);
};
const now = () => new Date().toISOString();

describe('events from status changes', () => {
  test('a deployment queued, then failed, reports both with its reason', () => {
    const dep = queueDeployment(t.deps, 'web');
    t.deps.lifecycle.end(dep.id, new BuildStepFailed({ index: 2, total: 3 }, 'npm ci exited 1'));
    expect(drained()).toEqual([
      ['deployment.queued', 'web'],
      ['deployment.failed', 'web'],
    ]);
    expect(seen[1]!.data).toMatchObject({
      deployment: {
        id: dep.id,
        number: dep.number,
        status: 'failed',
        failure_reason: 'Dockerfile step 2/3 failed: npm ci exited 1',
      },
    });
    expect(seen[0]!.id).toMatch(/^evt_/);
  });

  test('a deployment that goes live, and one canceled by a newer upload, report live and canceled', () => {
    const first = queueDeployment(t.deps, 'web');
    const second = queueDeployment(t.deps, 'web'); // supersedes the first
    t.deps.lifecycle.claim(second.id);
    t.deps.lifecycle.startDeploying(second.id);
    t.deps.lifecycle.goLive(t.deps.deploymentRepo.findAny(second.id)!);
    // The newer one is inserted, then the older one canceled, in one transaction.
    expect(drained()).toEqual([
      ['deployment.queued', 'web'],
      ['deployment.queued', 'web'],
      ['deployment.canceled', 'web'],
      ['deployment.live', 'web'],
    ]);
    expect(seen[2]!.data).toMatchObject({ deployment: { id: first.id, status: 'canceled' } });
    expect(seen[3]!.data).toMatchObject({ deployment: { id: second.id, status: 'live' } });
  });

  test('a domain that becomes active or failed reports it once, not on each retry', () => {
    const domains = domainRepo(t.deps.db);
    const at = now();
    domains.insert({
      id: 'dom_test1',
      project_id: t.deps.projects.get('web').id,
      hostname: 'shop.example.com',
      redirect_to_https: 1,
      hsts: 0,
      status: 'pending_dns',
      reason: null,
      attempts: 0,
      next_attempt_at: null,
      last_check: null,
      ownership_token: null,
      proven_at: null,
      created_at: at,
      updated_at: at,
    });
    domains.setStatus('dom_test1', {
      status: 'failed',
      reason: 'points to 198.51.100.4',
      next_attempt_at: at,
      attempts: 1,
    });
    domains.setStatus('dom_test1', {
      status: 'failed',
      reason: 'points to 198.51.100.4',
      next_attempt_at: at,
      attempts: 2,
    });
    domains.setStatus('dom_test1', { status: 'verified', reason: null, next_attempt_at: null });
    domains.setStatus('dom_test1', { status: 'active', reason: null, next_attempt_at: null });
    expect(drained()).toEqual([
      ['domain.failed', 'web'],
      ['domain.active', 'web'],
    ]);
    expect(seen[0]!.data).toEqual({
      domain: { id: 'dom_test1', hostname: 'shop.example.com', status: 'failed', reason: 'points to 198.51.100.4' },
    });
  });

  test("a certificate renewal failure reports it with the domain's project", () => {
    const certs = certificateRepo(t.deps.db);
    const at = now();
    certs.put({
      hostname: 'shop.example.com',
      source: 'acme',
      cert_pem: 'x',
      key_sealed: 'x',
      issuer: 'Pebble',
      serial: '01',
      not_before: at,
      not_after: at,
      renew_at: at,
      renew_failures: 0,
      renew_error: null,
      renew_next_at: null,
      created_at: at,
      updated_at: at,
    });
    certs.renewalFailed('shop.example.com', 'the CA said no', at);
    expect(drained()).toEqual([['certificate.renewal_failed', 'web']]);
    expect(seen[0]!.data).toMatchObject({
      certificate: { hostname: 'shop.example.com', failures: 1, error: 'the CA said no' },
    });
  });

  test('a backup that completes or fails reports done or failed, agent-wide', () => {
    const backups = backupRepo(t.deps.db);
    const row = (id: string): BackupRow => ({
      id,
      trigger: 'schedule',
      destination: 'local',
      status: 'running',
      location: null,
      bytes: null,
      sha256: null,
      manifest: null,
      error: null,
      created_at: now(),
      finished_at: null,
    });
    backups.insert(row('bak_a'));
    backups.insert(row('bak_b'));
    backups.finish({
      ...row('bak_a'),
      status: 'complete',
      location: '/x.slipway-backup',
      bytes: 10,
      finished_at: now(),
    });
    backups.finish({ ...row('bak_b'), status: 'failed', error: 'disk full', finished_at: now() });
    expect(drained()).toEqual([
      ['backup.done', null],
      ['backup.failed', null],
    ]);
    expect(seen[1]!.data).toMatchObject({ backup: { id: 'bak_b', status: 'failed', error: 'disk full' } });
  });
});

describe('the event bus', () => {
  test('a change whose transaction rolls back leaves no event', () => {
    expect(() =>
      t.deps.db.transaction(() => {
        queueDeployment(t.deps, 'web');
        throw new Error('changed my mind');
      })(),
    ).toThrow('changed my mind');
    expect(drained()).toEqual([]);
  });

  test('a subscriber that throws does not stop the others or stall the outbox', () => {
    t.deps.events.subscribe((e) => {
      if (e.type === 'deployment.queued') throw new Error('boom');
    });
    queueDeployment(t.deps, 'web');
    expect(drained()).toEqual([['deployment.queued', 'web']]);
    expect((t.deps.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n).toBe(0);
    expect(t.logLines.some((l) => l.includes('an event subscriber failed') && l.includes('boom'))).toBe(true);
  });
});
