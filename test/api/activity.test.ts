import { afterAll, describe, expect, test } from 'bun:test';
import { makeTestApp } from '../helpers/app.ts';

const t = makeTestApp();
afterAll(() => t.close());

type Entry = {
  id: string;
  action: string;
  target: string;
  project: string | null;
  token: { id: string | null; name: string | null };
  request_id: string;
  client_ip: string;
  changes: Record<string, unknown>;
};
type Page = { data: Entry[]; pagination: { next_cursor: string | null; has_more: boolean } };

async function activity(query = '', token?: string): Promise<Page> {
  const res = await t.req('GET', `/v1/activity${query}`, { token });
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

describe('the activity log', () => {
  test('every mutation appends one row with who, what, target and request id', async () => {
    const created = await t.req('POST', '/v1/projects', {
      body: { name: 'web' },
      headers: { 'x-request-id': 'req-create-web' },
    });
    expect(created.status).toBe(201);
    await t.req('PATCH', '/v1/projects/web', { body: { instances: 2, memory_mb: 256 } });
    await t.req('PATCH', '/v1/projects/web', { body: { instances: 2 } }); // no change, no row
    const minted = (await (await t.req('POST', '/v1/tokens', { body: { name: 'ci', scope: 'deploy' } })).json()) as {
      id: string;
      token: string;
    };
    await t.req('DELETE', `/v1/tokens/${minted.id}`);
    await t.req('DELETE', '/v1/projects/web');

    const page = await activity();
    // The oldest row is the test's own admin token, minted through the service.
    expect(page.data.map((e) => e.action)).toEqual([
      'project.delete',
      'token.revoke',
      'token.create',
      'project.update',
      'project.create',
      'token.create',
    ]);
    expect(page.data[5]!.token).toEqual({ id: null, name: 'test setup' });
    const create = page.data[4]!;
    expect(create).toMatchObject({
      target: 'web',
      project: 'web',
      request_id: 'req-create-web',
      token: { name: 'admin' },
    });
    expect(create.token.id).toMatch(/^tok_/);
    expect(create.client_ip).toBe('unknown');
    expect(page.data[3]!.changes).toEqual({ instances: { from: 1, to: 2 }, memory_mb: { from: 512, to: 256 } });
    expect(JSON.stringify(page.data)).not.toContain(minted.token);
  });

  test('filters by project, token and action', async () => {
    await t.req('POST', '/v1/projects', { body: { name: 'blog' } });
    const byProject = await activity('?project=blog');
    expect(byProject.data.map((e) => e.action)).toEqual(['project.create']);
    const byAction = await activity('?action=token');
    expect(byAction.data.map((e) => e.action)).toEqual(['token.revoke', 'token.create', 'token.create']);
    const exact = await activity('?action=project.update');
    expect(exact.data.map((e) => e.action)).toEqual(['project.update']);
    const adminId = byProject.data[0]!.token.id!;
    expect((await activity(`?token_id=${adminId}`)).data).toHaveLength(6);
    expect((await activity('?token_id=tok_nobody')).data).toHaveLength(0);
  });

  test('a project-limited token sees only its projects', async () => {
    const secret = t.token({ name: 'blog-reader', scope: 'read', projects: ['blog'] });
    const page = await activity('', secret);
    expect(page.data.map((e) => [e.action, e.project])).toEqual([['project.create', 'blog']]);
  });

  test('pages newest first without repeats', async () => {
    const first = await activity('?limit=3');
    expect(first.data).toHaveLength(3);
    expect(first.pagination.has_more).toBe(true);
    const second = await activity(`?limit=3&cursor=${first.pagination.next_cursor}`);
    const third = await activity(`?limit=3&cursor=${second.pagination.next_cursor}`);
    const all = [...first.data, ...second.data, ...third.data].map((e) => e.id);
    expect(all).toHaveLength(8);
    expect(new Set(all).size).toBe(8);
    expect(third.pagination).toEqual({ next_cursor: null, has_more: false });
  });

  test('the table refuses UPDATE and DELETE', () => {
    expect(() => t.deps.db.prepare("UPDATE activity SET action = 'forged'").run()).toThrow('activity is append-only');
    expect(() => t.deps.db.prepare('DELETE FROM activity').run()).toThrow('activity is append-only');
    expect((t.deps.db.prepare('SELECT count(*) AS n FROM activity').get() as { n: number }).n).toBe(8);
  });
});
