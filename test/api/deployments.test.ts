import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorOf, makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { tarOf, tgzOf, zipOf } from '../helpers/archives.ts';

// The worker is not started here: uploads stay queued, which is what these tests look at.
const t = makeTestApp({ SLIPWAY_MAX_UPLOAD_BYTES: '65536', SLIPWAY_SOURCE_RETENTION: '3' });
t.deps.projects.create(TEST_ACTOR, { name: 'web' });
afterAll(() => t.close());

const site = [{ name: 'index.html', body: '<h1>hello</h1>' }];
type Dep = {
  id: string;
  number: number;
  status: string;
  failure_reason: string | null;
  source: { sha256: string; bytes: number; format: string; kept: boolean };
};

async function upload(body: Uint8Array | FormData, headers: Record<string, string> = {}): Promise<Response> {
  const init: RequestInit = { method: 'POST', body, headers: { authorization: `Bearer ${t.adminToken}`, ...headers } };
  return t.app.handle(new Request('http://localhost/v1/projects/web/deployments', init));
}

describe('POST /v1/projects/{name}/deployments', () => {
  test('a raw tar.gz is accepted with 202 and its sha256', async () => {
    const bytes = tgzOf(site);
    const res = await upload(bytes, { 'content-type': 'application/gzip' });
    expect(res.status).toBe(202);
    const dep = (await res.json()) as Dep;
    expect(dep).toMatchObject({
      number: 1,
      status: 'queued',
      source: { bytes: bytes.length, format: 'tar.gz', kept: true },
    });
    expect(dep.source.sha256).toBe(new Bun.CryptoHasher('sha256').update(bytes).digest('hex'));
    expect(res.headers.get('location')).toBe(`/v1/projects/web/deployments/${dep.id}`);
    expect(existsSync(join(t.dir, 'sources', 'web', `${dep.id}.tar.gz`))).toBe(true);
  });

  test('a zip and a plain tar are accepted', async () => {
    expect((await upload(await zipOf(site), { 'content-type': 'application/zip' })).status).toBe(202);
    expect((await upload(tarOf(site), { 'content-type': 'application/x-tar' })).status).toBe(202);
  });

  test('multipart/form-data with the archive in field "source" is accepted', async () => {
    const form = new FormData();
    form.append('note', 'ignored');
    form.append('source', new Blob([tgzOf(site)], { type: 'application/gzip' }), 'site.tar.gz');
    const res = await upload(form);
    expect(res.status).toBe(202);
    expect(((await res.json()) as Dep).source.format).toBe('tar.gz');
  });

  test('multipart without a "source" file answers 422', async () => {
    const form = new FormData();
    form.append('file', new Blob([tgzOf(site)]), 'site.tar.gz');
    const res = await upload(form);
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({
      code: 'validation_error',
      message: 'The multipart body has no file in field "source"',
    });
  });

  test('a body whose bytes do not match its content type answers 415', async () => {
    const res = await upload(await zipOf(site), { 'content-type': 'application/gzip' });
    expect(res.status).toBe(415);
    expect(await errorOf(res)).toMatchObject({
      code: 'unsupported_media_type',
      message: 'The upload is a zip archive but was sent as application/gzip',
    });
  });

  test('an unsupported content type answers 415', async () => {
    const res = await upload(tgzOf(site), { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
  });

  test('bytes that are no archive at all answer 422', async () => {
    const res = await upload(new TextEncoder().encode('just some text, not an archive'.repeat(30)), {
      'content-type': 'application/octet-stream',
    });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).message).toBe('Rejected upload: the body is not a tar, tar.gz or zip archive');
  });

  test('a hostile archive answers 422 naming the entry and stores nothing', async () => {
    const before = readdirSync(join(t.dir, 'sources', 'web')).length;
    const res = await upload(tgzOf([{ name: '../escape', body: 'x' }]), { 'content-type': 'application/gzip' });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).message).toBe('Rejected upload: entry "../escape" has ".." in its path');
    expect(readdirSync(join(t.dir, 'sources', 'web')).length).toBe(before);
    expect(readdirSync(join(t.dir, 'tmp'))).toEqual([]);
  });

  test('an upload over the size limit answers 413 while streaming, without a Content-Length', async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent > 10 * 65536) return c.close(); // never reached: the server stops reading first
        sent += 8192;
        c.enqueue(new Uint8Array(8192).fill(7));
      },
    });
    const res = await t.app.handle(
      new Request('http://localhost/v1/projects/web/deployments', {
        method: 'POST',
        body,
        headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/gzip' },
        duplex: 'half',
      } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('payload_too_large');
    expect(sent).toBeLessThan(2 * 65536);
    expect(readdirSync(join(t.dir, 'tmp'))).toEqual([]);
  });

  test('a declared Content-Length over the limit answers 413 before reading', async () => {
    const res = await upload(new Uint8Array(70000), { 'content-type': 'application/gzip' });
    expect(res.status).toBe(413);
  });

  test('a repeated Idempotency-Key returns the first deployment', async () => {
    const a = await upload(tgzOf(site), { 'content-type': 'application/gzip', 'idempotency-key': 'build-42' });
    const b = await upload(tgzOf(site), { 'content-type': 'application/gzip', 'idempotency-key': 'build-42' });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(((await b.json()) as Dep).id).toBe(((await a.json()) as Dep).id);
  });

  test('an unknown project answers 404', async () => {
    const res = await t.app.handle(
      new Request('http://localhost/v1/projects/ghost/deployments', {
        method: 'POST',
        body: tgzOf(site),
        headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/gzip' },
      }),
    );
    expect(res.status).toBe(404);
  });
});

describe('the queue as seen through the API', () => {
  test('a newer upload supersedes older queued ones', async () => {
    const list = (await (await t.req('GET', '/v1/projects/web/deployments?limit=100')).json()) as { data: Dep[] };
    const [newest, ...older] = list.data;
    expect(newest!.status).toBe('queued');
    for (const d of older) expect(d.status).toBe('canceled');
    expect(older[0]!.failure_reason).toBe(`Superseded by deployment #${newest!.number}`);
    expect(list.data.map((d) => d.number)).toEqual([...list.data.map((d) => d.number)].sort((a, b) => b - a));
  });

  test("a cursor of one project's history is refused on another's", async () => {
    t.deps.projects.create(TEST_ACTOR, { name: 'other' });
    const page = (await (await t.req('GET', '/v1/projects/web/deployments?limit=1')).json()) as {
      pagination: { next_cursor: string | null };
    };
    expect(page.pagination.next_cursor).not.toBeNull();
    const res = await t.req('GET', `/v1/projects/other/deployments?limit=1&cursor=${page.pagination.next_cursor}`);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ message: 'Invalid cursor: it belongs to another list' });
    const same = await t.req('GET', `/v1/projects/web/deployments?limit=1&cursor=${page.pagination.next_cursor}`);
    expect(same.status).toBe(200);
  });

  test('history filters by status', async () => {
    const res = await t.req('GET', '/v1/projects/web/deployments?status=canceled');
    const page = (await res.json()) as { data: Dep[] };
    expect(page.data.length).toBeGreaterThan(0);
    expect(page.data.every((d) => d.status === 'canceled')).toBe(true);
    expect((await t.req('GET', '/v1/projects/web/deployments?status=bogus')).status).toBe(422);
  });

  test('canceling a queued deployment ends it at once; canceling again is a conflict', async () => {
    const dep = (await (await upload(tgzOf(site), { 'content-type': 'application/gzip' })).json()) as Dep;
    const res = await t.req('POST', `/v1/projects/web/deployments/${dep.id}/cancel`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: dep.id, status: 'canceled', failure_reason: 'Canceled by request' });
    const again = await t.req('POST', `/v1/projects/web/deployments/${dep.id}/cancel`);
    expect(again.status).toBe(409);
    expect((await errorOf(again)).message).toBe(`Cannot cancel deployment #${dep.number}: it is already canceled`);
  });

  test('retry queues a new deployment from the same source', async () => {
    const dep = (await (await upload(tgzOf(site), { 'content-type': 'application/gzip' })).json()) as Dep;
    const res = await t.req('POST', `/v1/projects/web/deployments/${dep.id}/retry`);
    expect(res.status).toBe(202);
    const retry = (await res.json()) as Dep & { retry_of: string; trigger: string };
    expect(retry).toMatchObject({ retry_of: dep.id, trigger: 'retry', status: 'queued', number: dep.number + 1 });
    expect(retry.source.sha256).toBe(dep.source.sha256);
  });

  test('old sources are pruned past the retention and can no longer be retried', async () => {
    const list = (await (await t.req('GET', '/v1/projects/web/deployments?limit=100')).json()) as { data: Dep[] };
    const kept = list.data.filter((d) => d.source?.kept);
    expect(kept.length).toBeLessThanOrEqual(4); // 3 kept + at most one still queued
    const pruned = list.data.find((d) => d.source && !d.source.kept)!;
    const res = await t.req('POST', `/v1/projects/web/deployments/${pruned.id}/retry`);
    expect(res.status).toBe(409);
    expect((await errorOf(res)).message).toBe(
      `Cannot retry deployment #${pruned.number}: its source is no longer kept (SLIPWAY_SOURCE_RETENTION)`,
    );
    expect(readdirSync(join(t.dir, 'sources', 'web')).filter((f) => f.endsWith('.tar.gz')).length).toBeLessThanOrEqual(
      4,
    );
  });

  test('the log is plain text by default', async () => {
    const dep = (await (await upload(tgzOf(site), { 'content-type': 'application/gzip' })).json()) as Dep;
    const res = await t.req('GET', `/v1/projects/web/deployments/${dep.id}/logs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toStartWith('text/plain');
    expect(await res.text()).toBe(`Deployment #${dep.number} queued (upload)\n`);
  });

  test('an unknown deployment answers 404', async () => {
    const res = await t.req('GET', '/v1/projects/web/deployments/dep_nothing');
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toBe('No deployment "dep_nothing" in project "web"');
  });

  test('uploads are recorded in the activity log', async () => {
    const page = (await (await t.req('GET', '/v1/activity?action=deployment')).json()) as {
      data: { action: string }[];
    };
    expect(page.data.map((e) => e.action)).toContain('deployment.create');
    expect(page.data.map((e) => e.action)).toContain('deployment.cancel');
    expect(page.data.map((e) => e.action)).toContain('deployment.retry');
  });
});
