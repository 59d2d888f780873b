import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { createDeps, type Deps } from '../../src/deps.ts';
import { createLogger } from '../../src/log.ts';
import { DEFAULT_DELIVERY_TUNING, retryDelayMs } from '../../src/webhooks/delivery-worker.ts';
import { makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { queueDeployment } from '../helpers/deployments.ts';
import { type Receiver, signatureValid, startReceiver } from './receiver.ts';

const FAST = { firstRetryMs: 30, maxRetryMs: 80, timeoutMs: 800, pollMs: 20 };
const receivers: Receiver[] = [];
const receiver = () => {
  const r = startReceiver();
  receivers.push(r);
  return r;
};
afterAll(() => {
  for (const r of receivers) r.stop();
});

describe('the retry schedule', () => {
  test('waits double after each failure, from 15 s up to an hour, with at most 10 % jitter', () => {
    const waits = [1, 2, 3, 9, 20].map((n) => retryDelayMs(n, DEFAULT_DELIVERY_TUNING));
    const bases = [15_000, 30_000, 60_000, 3_600_000, 3_600_000];
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual(bases[i]!);
      expect(w).toBeLessThanOrEqual(bases[i]! * 1.1);
    });
  });

  test('a delivery is retried for 24 hours after it was queued', async () => {
    const t = makeTestApp({ SLIPWAY_WEBHOOK_ALLOW_PRIVATE: 'true' });
    try {
      t.deps.projects.create(TEST_ACTOR, { name: 'web' });
      const hook = await t.deps.webhooks.create(TEST_ACTOR, {
        url: 'http://127.0.0.1:9/',
        events: ['deployment.queued'],
      });
      queueDeployment(t.deps, 'web');
      t.deps.events.drain();
      const [d] = t.deps.webhooks.deliveries(hook.id, { limit: 10 }).data;
      expect(Date.parse(d!.give_up_at) - Date.parse(d!.created_at)).toBe(24 * 60 * 60 * 1000);
    } finally {
      t.close();
    }
  });
});

describe('a delivery that runs out of retries', () => {
  const t = makeTestApp(
    { SLIPWAY_WEBHOOK_ALLOW_PRIVATE: 'true' },
    { webhooks: { delivery: FAST, retryWindowMs: 400 } },
  );
  t.deps.projects.create(TEST_ACTOR, { name: 'web' });
  t.deps.webhookWorker.start();
  afterAll(async () => {
    await t.deps.webhookWorker.stop();
    t.close();
  });

  test('ends dead, shows in the dead letter, and its retry there delivers it', async () => {
    const r = receiver();
    let down = true;
    r.respond = () => new Response('down', { status: down ? 502 : 200 });
    const hook = await t.deps.webhooks.create(TEST_ACTOR, { url: r.url, events: ['deployment.queued'] });
    queueDeployment(t.deps, 'web');
    let dead: { id: string; status: string; attempts: number } | undefined;
    for (const end = Date.now() + 10_000; Date.now() < end; await Bun.sleep(20)) {
      dead = t.deps.webhooks.deliveries(hook.id, { limit: 1 }).data[0];
      if (dead?.status === 'dead') break;
    }
    expect(dead!.status).toBe('dead');
    expect(dead!.attempts).toBeGreaterThanOrEqual(2);
    expect(r.got.length).toBe(dead!.attempts);

    const page = (await (await t.req('GET', '/v1/ops/dead-letter?kind=webhook_delivery')).json()) as {
      data: { kind: string; id: string; reason: string; detail: Record<string, unknown>; retry: { path: string } }[];
    };
    expect(page.data).toHaveLength(1);
    expect(page.data[0]).toMatchObject({
      kind: 'webhook_delivery',
      id: dead!.id,
      reason: 'HTTP 502',
      detail: { webhook_id: hook.id, event: 'deployment.queued', response_code: 502 },
      retry: { path: `/v1/ops/dead-letter/webhook_delivery/${dead!.id}/retry` },
    });

    down = false;
    const res = await t.req('POST', page.data[0]!.retry.path);
    expect(res.status).toBe(202);
    const retried = (await res.json()) as { retried_as: string };
    expect(retried.retried_as).toMatch(/^whd_/);
    const got = await r.waitFor(dead!.attempts + 1);
    expect(got.at(-1)!.headers['slipway-delivery']).toBe(retried.retried_as);
    expect(got.at(-1)!.body).toBe(got[0]!.body);
  });
});

describe('a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-webhooks-'));
  const config = loadConfig({
    SLIPWAY_DATA_DIR: dir,
    SLIPWAY_WEBHOOK_ALLOW_PRIVATE: 'true',
    SLIPWAY_ACME_DIRECTORY: 'off',
  });
  const open = (): Deps => createDeps(config, { log: createLogger('error'), webhooks: { delivery: FAST } });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('loses nothing: events not yet drained and deliveries cut off mid-send are delivered after it', async () => {
    const r = receiver();
    const before = open();
    before.projects.create(TEST_ACTOR, { name: 'web' });
    const hook = await before.webhooks.create(TEST_ACTOR, { url: r.url, events: ['deployment.queued'] });
    // One event queued as a delivery and claimed, as if the process died while sending it…
    queueDeployment(before, 'web');
    before.events.drain();
    before.db.prepare("UPDATE webhook_deliveries SET status = 'sending'").run();
    // …and one still in the outbox.
    queueDeployment(before, 'web');
    before.close();
    expect(r.got).toHaveLength(0);

    const after = open();
    try {
      after.webhookWorker.start();
      const got = await r.waitFor(2);
      const numbers = got.map((g) => JSON.parse(g.body).data.deployment.number).sort();
      expect(numbers).toEqual([1, 2]);
      for (const g of got) expect(signatureValid(hook.secret, g.headers['slipway-signature'], g.body)).toBe(true);
    } finally {
      await after.webhookWorker.stop();
      after.close();
    }
  });
});
