import { afterAll, beforeEach, describe, expect, test } from 'bun:test';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { tgzOf } from '../helpers/archives.ts';
import { queueDeployment } from '../helpers/deployments.ts';
import { type Receiver, signatureValid, startReceiver } from './receiver.ts';

// Loopback receivers need SLIPWAY_WEBHOOK_ALLOW_PRIVATE; refusal is tested in destination.test.ts.
const t = makeTestApp(
  { SLIPWAY_WEBHOOK_ALLOW_PRIVATE: 'true' },
  { webhooks: { delivery: { firstRetryMs: 40, maxRetryMs: 200, timeoutMs: 800, pollMs: 20 } } },
);
t.deps.projects.create(TEST_ACTOR, { name: 'web' });
t.deps.projects.create(TEST_ACTOR, { name: 'api' });
t.deps.webhookWorker.start();
const receivers: Receiver[] = [];
afterAll(async () => {
  for (const r of receivers) r.stop();
  await t.deps.webhookWorker.stop();
  t.close();
});

type Created = { id: string; secret: string; url: string; events: string[]; project: string | null };
type Delivery = {
  id: string;
  event: string;
  event_id: string;
  status: string;
  attempts: number;
  response_code: number | null;
  error: string | null;
  duration_ms: number | null;
  redelivery_of: string | null;
};
type Detail = Delivery & {
  history: { n: number; response_code: number | null; error: string | null }[];
  payload: unknown;
};

/** The verification snippet of the README, run as it is printed there. */
function readmeVerifier(): (secret: string, header: string | undefined, body: string) => boolean {
  const readme = readFileSync(join(import.meta.dir, '../../README.md'), 'utf8');
  const code = /To check one in Node\.js:\n\n```js\n([\s\S]*?)```/.exec(readme)![1]!.replace(/^import .*\n/m, '');
  return new Function('createHmac', 'timingSafeEqual', `${code}; return verifySlipway;`)(createHmac, timingSafeEqual);
}

function receiver(): Receiver {
  const r = startReceiver();
  receivers.push(r);
  return r;
}

async function addHook(url: string, events: string[], project?: string): Promise<Created> {
  const res = await t.req('POST', '/v1/webhooks', { body: { url, events, ...(project ? { project } : {}) } });
  expect(res.status).toBe(201);
  return (await res.json()) as Created;
}

async function upload(project: string): Promise<{ id: string; number: number }> {
  const res = await t.app.handle(
    new Request(`http://localhost/v1/projects/${project}/deployments`, {
      method: 'POST',
      body: tgzOf([{ name: 'index.html', body: '<h1>hi</h1>' }]),
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/gzip' },
    }),
  );
  expect(res.status).toBe(202);
  return (await res.json()) as { id: string; number: number };
}

async function deliveries(hook: string): Promise<Delivery[]> {
  const res = await t.req('GET', `/v1/webhooks/${hook}/deliveries`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: Delivery[] }).data;
}

async function until<T>(what: () => Promise<T> | T, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting; last value ${JSON.stringify(v)}`);
    await Bun.sleep(20);
  }
}

let hooks: string[] = [];
beforeEach(async () => {
  // Each test sees only its own webhooks' deliveries.
  for (const id of hooks) await t.req('DELETE', `/v1/webhooks/${id}`);
  hooks = [];
});
async function hook(url: string, events: string[], project?: string): Promise<Created> {
  const made = await addHook(url, events, project);
  hooks.push(made.id);
  return made;
}

describe('webhook deliveries', () => {
  test('a receiver that fails twice gets the event a third time, signed, and the attempts are recorded', async () => {
    const r = receiver();
    const created = await hook(r.url, ['deployment.queued']);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    r.respond = (n, req) =>
      n <= 2
        ? new Response('not now', { status: 500 })
        : new Response(null, {
            status: signatureValid(created.secret, req.headers['slipway-signature'], req.body) ? 204 : 401,
          });
    const dep = await upload('web');
    const got = await r.waitFor(3);
    const [delivery] = await until(
      () => deliveries(created.id),
      (d) => d[0]?.status === 'delivered',
    );
    expect(delivery).toMatchObject({ event: 'deployment.queued', attempts: 3, response_code: 204, error: null });
    expect(got.map((g) => g.headers['slipway-delivery'])).toEqual([delivery!.id, delivery!.id, delivery!.id]);
    const body = JSON.parse(got[2]!.body);
    expect(body).toMatchObject({
      type: 'deployment.queued',
      project: 'web',
      data: { deployment: { id: dep.id, number: dep.number, status: 'queued', trigger: 'upload' } },
    });
    expect(body.id).toBe(delivery!.event_id);
    expect(got[2]!.headers['content-type']).toBe('application/json');
    expect(got[2]!.headers['slipway-event']).toBe('deployment.queued');
    const readme = readmeVerifier();
    expect(readme(created.secret, got[2]!.headers['slipway-signature'], got[2]!.body)).toBe(true);
    expect(readme(created.secret, got[2]!.headers['slipway-signature'], `${got[2]!.body} `)).toBe(false);
    // The same body with another secret does not verify: the receiver's check can fail.
    expect(signatureValid('whsec_other', got[2]!.headers['slipway-signature'], got[2]!.body)).toBe(false);
    const detail = (await (
      await t.req('GET', `/v1/webhooks/${created.id}/deliveries/${delivery!.id}`)
    ).json()) as Detail;
    expect(detail.history.map((h) => h.response_code)).toEqual([500, 500, 204]);
    expect(detail.history[0]!.error).toBe('HTTP 500');
    expect(detail.payload).toEqual(body);
  });

  test('only the events asked for, of the project asked for, are delivered', async () => {
    const r = receiver();
    t.deps.projects.create(TEST_ACTOR, { name: 'shop' });
    const forShop = await hook(r.url, ['deployment.canceled'], 'shop');
    const shop = await upload('shop');
    const api = await upload('api');
    expect((await t.req('POST', `/v1/projects/api/deployments/${api.id}/cancel`)).status).toBe(200);
    expect((await t.req('POST', `/v1/projects/shop/deployments/${shop.id}/cancel`)).status).toBe(200);
    const [got] = await r.waitFor(1);
    expect(JSON.parse(got!.body)).toMatchObject({
      type: 'deployment.canceled',
      project: 'shop',
      data: { deployment: { id: shop.id, status: 'canceled' } },
    });
    t.deps.events.drain();
    await Bun.sleep(100);
    expect(r.got).toHaveLength(1);
    expect((await deliveries(forShop.id)).map((d) => d.event)).toEqual(['deployment.canceled']);
  });

  test('a redirect is a failed attempt and is not followed', async () => {
    const target = receiver();
    const r = receiver();
    r.respond = () => Response.redirect(target.url, 307);
    const created = await hook(r.url, ['deployment.queued']);
    await upload('web');
    await r.waitFor(2);
    const [d] = await deliveries(created.id);
    expect(d).toMatchObject({ status: 'pending', response_code: 307, error: 'HTTP 307' });
    expect(target.got).toHaveLength(0);
  });

  test('a receiver that never answers times out, and a huge answer is read only up to the cap', async () => {
    const slow = receiver();
    slow.respond = () => new Promise(() => {});
    const big = receiver();
    big.respond = () =>
      new Response(
        new ReadableStream({
          pull: (c) => c.enqueue(new Uint8Array(64 * 1024)), // endless
        }),
      );
    const slowHook = await hook(slow.url, ['deployment.queued']);
    const bigHook = await hook(big.url, ['deployment.queued']);
    const started = Date.now();
    await upload('web');
    expect(Date.now() - started).toBeLessThan(2000); // the upload never waits for a receiver
    const [bigDelivery] = await until(
      () => deliveries(bigHook.id),
      (d) => d[0]?.status === 'delivered',
    );
    expect(bigDelivery!.duration_ms!).toBeLessThan(800);
    const [slowDelivery] = await until(
      () => deliveries(slowHook.id),
      (d) => (d[0]?.attempts ?? 0) >= 1,
    );
    expect(slowDelivery!.error).toBe('timed out after 800 ms');
    expect(slowDelivery!.response_code).toBeNull();
  });
});

describe('redelivery', () => {
  test('a delivered event is sent again as a new delivery with the same event id', async () => {
    const r = receiver();
    const created = await hook(r.url, ['deployment.queued']);
    await upload('web');
    const [first] = await until(
      () => deliveries(created.id),
      (d) => d[0]?.status === 'delivered',
    );
    const res = await t.req('POST', `/v1/webhooks/${created.id}/deliveries/${first!.id}/redeliver`);
    expect(res.status).toBe(202);
    const again = (await res.json()) as Delivery;
    expect(again).toMatchObject({ redelivery_of: first!.id, event_id: first!.event_id, status: 'pending' });
    const got = await r.waitFor(2);
    expect(got[1]!.body).toBe(got[0]!.body);
    expect(got[1]!.headers['slipway-delivery']).toBe(again.id);
  });

  test('a delivery still being retried cannot be redelivered', async () => {
    const r = receiver();
    r.respond = () => new Response('no', { status: 503 });
    const created = await hook(r.url, ['deployment.queued']);
    await upload('web');
    await r.waitFor(1);
    const [d] = await deliveries(created.id);
    const res = await t.req('POST', `/v1/webhooks/${created.id}/deliveries/${d!.id}/redeliver`);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('still being retried');
  });
});

describe('fairness', () => {
  test('a slow receiver holds one attempt at a time, never every slot', async () => {
    const app = makeTestApp(
      { SLIPWAY_WEBHOOK_ALLOW_PRIVATE: 'true' },
      { webhooks: { delivery: { firstRetryMs: 40, maxRetryMs: 200, timeoutMs: 5000, pollMs: 20, concurrency: 4 } } },
    );
    const slow = receiver();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    slow.respond = async () => {
      await held;
      return new Response('late');
    };
    const fast = receiver();
    try {
      app.deps.projects.create(TEST_ACTOR, { name: 'web' });
      await app.deps.webhooks.create(TEST_ACTOR, { url: slow.url, events: ['deployment.queued'] });
      await app.deps.webhooks.create(TEST_ACTOR, { url: fast.url, events: ['deployment.queued'] });
      for (let i = 0; i < 5; i++) queueDeployment(app.deps, 'web');
      app.deps.webhookWorker.start();
      await fast.waitFor(5);
      expect(slow.got).toHaveLength(1);
      release();
      await slow.waitFor(5);
    } finally {
      release();
      await app.deps.webhookWorker.stop();
      app.close();
    }
  });
});
