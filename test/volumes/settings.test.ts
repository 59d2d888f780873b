import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { errorOf, makeTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeEach(() => {
  t = makeTestApp();
});
afterEach(() => t.close());

const DATA = { name: 'data', mount_path: '/data' };

/** Bad volumes settings, the issue each one gets, and its message. */
const BAD: [string, unknown[], { path: string; message: string }][] = [
  ['a relative mount path', [{ name: 'data', mount_path: 'data' }], { path: '/volumes/0/mount_path', message: '' }],
  [
    'the root',
    [{ name: 'data', mount_path: '/' }],
    { path: '/volumes/0/mount_path', message: 'The mount path must not be / (the whole file system)' },
  ],
  [
    'a path under /proc',
    [{ name: 'data', mount_path: '/proc/self' }],
    { path: '/volumes/0/mount_path', message: 'The mount path must not be /proc or under it' },
  ],
  [
    '/dev itself',
    [{ name: 'data', mount_path: '/dev' }],
    { path: '/volumes/0/mount_path', message: 'The mount path must not be /dev or under it' },
  ],
  [
    'a file Docker manages',
    [{ name: 'data', mount_path: '/etc/hosts' }],
    { path: '/volumes/0/mount_path', message: 'The mount path must not be /etc/hosts, which Docker manages' },
  ],
  [
    'a path with ..',
    [{ name: 'data', mount_path: '/data/../etc' }],
    {
      path: '/volumes/0/mount_path',
      message: 'The mount path must be a clean path: no empty, "." or ".." segments, no trailing /',
    },
  ],
  [
    'a trailing slash',
    [{ name: 'data', mount_path: '/data/' }],
    {
      path: '/volumes/0/mount_path',
      message: 'The mount path must be a clean path: no empty, "." or ".." segments, no trailing /',
    },
  ],
  ['a name that is no DNS label', [{ name: 'Data', mount_path: '/data' }], { path: '/volumes/0/name', message: '' }],
  [
    'a name used twice',
    [DATA, { name: 'data', mount_path: '/other' }],
    { path: '/volumes/1/name', message: '"data" appears twice' },
  ],
  [
    'a mount path used twice',
    [DATA, { name: 'other', mount_path: '/data' }],
    { path: '/volumes/1/mount_path', message: '"/data" appears twice' },
  ],
  [
    'a mount path inside another',
    [DATA, { name: 'cache', mount_path: '/data/cache' }],
    { path: '/volumes/1/mount_path', message: '"/data/cache" lies inside "/data" (volume "data")' },
  ],
  [
    'more than ten volumes',
    Array.from({ length: 11 }, (_, i) => ({ name: `v${i}`, mount_path: `/v${i}` })),
    { path: '/volumes', message: '' },
  ],
];

describe('the volumes setting', () => {
  for (const [what, volumes, issue] of BAD) {
    test(`refuses ${what}`, async () => {
      const res = await t.req('POST', '/v1/projects', { body: { name: 'web', volumes } });
      expect(res.status).toBe(422);
      const error = await errorOf(res);
      expect(error.code).toBe('validation_error');
      const found = error.issues?.find((i) => i.path === issue.path);
      expect({ what, found: found !== undefined }).toEqual({ what, found: true });
      if (issue.message) expect(found!.message).toBe(issue.message);
      expect((await t.req('GET', '/v1/projects/web')).status).toBe(404);
    });
  }

  test('is stored, shown and recorded in the activity log when it changes', async () => {
    expect((await t.req('POST', '/v1/projects', { body: { name: 'web' } })).status).toBe(201);
    const res = await t.req('PATCH', '/v1/projects/web', { body: { volumes: [DATA] } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ volumes: [DATA], volumes_shared: false, volumes_size_bytes: 0 });
    // The same list again is no change.
    await t.req('PATCH', '/v1/projects/web', { body: { volumes: [{ ...DATA }] } });
    const activity = (await (await t.req('GET', '/v1/activity?project=web&action=project.update')).json()) as {
      data: { changes: unknown }[];
    };
    expect(activity.data.map((a) => a.changes)).toEqual([{ volumes: { from: [], to: [DATA] } }]);
  });

  test('allows one instance only, unless volumes_shared is true', async () => {
    const twice = await t.req('POST', '/v1/projects', { body: { name: 'web', volumes: [DATA], instances: 2 } });
    expect(twice.status).toBe(422);
    expect((await errorOf(twice)).issues).toEqual([
      { path: '/instances', message: 'At most 1 while the project has volumes and volumes_shared is false' },
    ]);
    expect((await t.req('POST', '/v1/projects', { body: { name: 'web', volumes: [DATA] } })).status).toBe(201);
    expect((await t.req('PATCH', '/v1/projects/web', { body: { instances: 3 } })).status).toBe(422);
    expect((await t.req('POST', '/v1/projects/web/scale', { body: { instances: 2 } })).status).toBe(422);
    const shared = await t.req('PATCH', '/v1/projects/web', { body: { volumes_shared: true, instances: 3 } });
    expect(shared.status).toBe(200);
    // Going back to one writer while three instances run is refused too.
    expect((await t.req('PATCH', '/v1/projects/web', { body: { volumes_shared: false } })).status).toBe(422);
  });

  test('lists volumes before they exist, and says why there is nothing to download', async () => {
    await t.req('POST', '/v1/projects', { body: { name: 'web', volumes: [DATA] } });
    const list = await t.req('GET', '/v1/projects/web/volumes');
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({
      data: [
        {
          name: 'data',
          mount_path: '/data',
          created: false,
          docker_volume: null,
          size_bytes: null,
          measured_at: null,
          size_limit_bytes: null,
          created_at: null,
        },
      ],
      pagination: { next_cursor: null, has_more: false },
    });
    const download = await t.req('GET', '/v1/projects/web/volumes/data/archive');
    expect(download.status).toBe(404);
    expect((await errorOf(download)).message).toBe(
      'Volume "data" of "web" holds nothing yet: it is created on the next deploy',
    );
    const unknown = await t.req('DELETE', '/v1/projects/web/volumes/cache?confirm=cache');
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).message).toBe('Project "web" has no volume named "cache"');
  });

  test('the admin quota takes a per-volume size, or null for none', async () => {
    await t.req('POST', '/v1/projects', { body: { name: 'web' } });
    const set = await t.req('PUT', '/v1/projects/web/quota', { body: { volume_mb: 2048 } });
    expect(set.status).toBe(200);
    expect(((await set.json()) as { quota: unknown }).quota).toEqual({
      instances: 10,
      memory_mb: 8192,
      cpus: 10,
      volume_mb: 2048,
    });
    const cleared = await t.req('PUT', '/v1/projects/web/quota', { body: { volume_mb: null } });
    expect(((await cleared.json()) as { quota: { volume_mb: unknown } }).quota.volume_mb).toBeNull();
  });
});
