import { afterAll, describe, expect, test } from 'bun:test';
import { makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { tgzOf } from '../helpers/archives.ts';
import { readSse } from '../helpers/sse.ts';
import { BuildError, BuildStepFailed, CanceledByRequest } from '../../src/deployments/failures.ts';

const t = makeTestApp();
t.deps.projects.create(TEST_ACTOR, { name: 'web' });
afterAll(() => t.close());

async function queued(): Promise<string> {
  const res = await t.app.handle(
    new Request('http://localhost/v1/projects/web/deployments', {
      method: 'POST',
      body: tgzOf([{ name: 'index.html', body: 'hi' }]),
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/gzip' },
    }),
  );
  return ((await res.json()) as { id: string }).id;
}

/** Reads SSE events until the stream ends or `max` events arrived. */
const events = (res: Response, max = 1000) => readSse(res, (seen) => seen.length >= max);

describe('following a deployment log', () => {
  test('streams lines as SSE as they are written, then an end event with the status', async () => {
    const id = await queued();
    const res = await t.req('GET', `/v1/projects/web/deployments/${id}/logs?follow=true`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const collected = events(res);
    t.deps.lifecycle.claim(id);
    for (let i = 1; i <= 3; i++) {
      await Bun.sleep(20);
      t.deps.logs.append(id, `Step ${i}/3`);
    }
    t.deps.lifecycle.end(id, new BuildStepFailed({ index: 3, total: 3 }, 'boom'));
    const got = await collected;
    expect(got.map((e) => e.data)).toEqual([
      'Deployment #1 queued (upload)',
      'Step 1/3',
      'Step 2/3',
      'Step 3/3',
      'Deployment failed: Dockerfile step 3/3 failed: boom',
      '{"status":"failed","failure_reason":"Dockerfile step 3/3 failed: boom"}',
    ]);
    expect(got.map((e) => e.id)).toEqual(['1', '2', '3', '4', '5', undefined]);
    expect(got.at(-1)!.event).toBe('end');
  });

  test('Accept: text/event-stream also streams, and Last-Event-ID resumes after that line', async () => {
    const id = await queued();
    for (let i = 0; i < 5; i++) t.deps.logs.append(id, `line ${i}`);
    t.deps.lifecycle.claim(id);
    t.deps.lifecycle.end(id, new CanceledByRequest());
    const res = await t.req('GET', `/v1/projects/web/deployments/${id}/logs`, {
      headers: { accept: 'text/event-stream', 'last-event-id': '4' },
    });
    const got = await events(res);
    expect(got.map((e) => e.id ?? e.event)).toEqual(['5', '6', '7', 'end']);
    expect(got[0]!.data).toBe('line 3');
  });

  test('many followers, one of which disconnects, all get every line', async () => {
    const id = await queued();
    t.deps.lifecycle.claim(id);
    const quitter = await t.req('GET', `/v1/projects/web/deployments/${id}/logs?follow=true`);
    const quitting = events(quitter, 2); // reads two events, then cancels its stream
    const followers = await Promise.all(
      Array.from({ length: 5 }, () => t.req('GET', `/v1/projects/web/deployments/${id}/logs?follow=true`)),
    );
    const all = followers.map((r) => events(r));
    for (let i = 0; i < 300; i++) t.deps.logs.append(id, `line ${i}`);
    await quitting;
    t.deps.lifecycle.end(id, new BuildError('done'));
    for (const got of await Promise.all(all)) {
      expect(got).toHaveLength(1 + 300 + 1 + 1);
      expect(got.at(-1)!.event).toBe('end');
    }
  });

  test('a follower of a queued deployment that a newer upload supersedes sees it end at once', async () => {
    const id = await queued();
    const res = await t.req('GET', `/v1/projects/web/deployments/${id}/logs?follow=true`);
    const reading = events(res);
    await Bun.sleep(50);
    await queued();
    const started = performance.now();
    const got = await reading;
    expect(performance.now() - started).toBeLessThan(5000); // well before the 15 s keep-alive wake
    expect(got.at(-2)!.data).toMatch(/^Deployment canceled: Superseded by deployment #\d+$/);
    expect(got.at(-1)!.event).toBe('end');
    expect(JSON.parse(got.at(-1)!.data).status).toBe('canceled');
  });
});
