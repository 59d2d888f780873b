import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiError, fakeAgent, json, page, runCli, sse } from './harness.ts';
import { deployment, project, token } from './samples.ts';

const web = project('web', { instances: 2 });
const api = project('api', { desired_state: 'stopped', created_at: '2025-12-30T03:04:05.000Z' });
const deps = [
  deployment('web', 2),
  deployment('web', 1, { status: 'failed', failure_reason: 'Health check failed: GET / answered 500', stack: null }),
];
const dump = new Uint8Array([0x50, 0x47, 0x44, 0x4d, 0x50, 0, 1, 2, 3]);
const tarBytes = new Uint8Array(1024).fill(7);
const backup = {
  id: 'bak_1',
  trigger: 'api',
  destination: 'local',
  status: 'complete',
  location: '/var/lib/slipway/backups/slipway-20260102T030000Z-abcdefgh.slwb',
  bytes: 2 * 1024 ** 2,
  sha256: 'ab'.repeat(32),
  error: null,
  created_at: '2026-01-02T03:00:05.000Z',
  finished_at: '2026-01-02T03:00:09.000Z',
  manifest: null,
};

const agent = fakeAgent({
  'GET /v1/projects': () => page([api, web]),
  'GET /v1/projects/web': () => json(web),
  'GET /v1/projects/nope': () => apiError(404, 'not_found', 'No project named "nope"'),
  'POST /v1/projects': () => json(project('new'), 201),
  'POST /v1/projects/web/scale': () => json(web),
  'POST /v1/projects/web/stop': () => json(web),
  'DELETE /v1/projects/web': () => new Response(null, { status: 204 }),
  'GET /v1/projects/web/deployments': (_req, url) =>
    page(url.searchParams.get('status') === 'live' ? deps.slice(0, 1) : deps),
  'GET /v1/projects/web/deployments/dep_web_1': () => json(deps[1]),
  'GET /v1/projects/web/deployments/dep_web_2': () => json(deps[0]),
  'GET /v1/projects/web/deployments/dep_web_2/logs': (req) =>
    req.headers.get('accept') === 'text/event-stream'
      ? sse([
          'id: 1\ndata: Step 1/2\n\n',
          'id: 2\ndata: Deployment #2 is live\n\nevent: end\ndata: {"status":"live","failure_reason":null}\n\n',
        ])
      : new Response('line one\nline two\n'),
  'POST /v1/projects/web/deployments/dep_web_1/retry': () =>
    json(deployment('web', 3, { status: 'queued', trigger: 'retry' }), 202),
  'GET /v1/projects/web/env': (_req, url) =>
    json({
      data: [
        {
          key: 'GREETING',
          value: url.searchParams.get('reveal') ? 'hello' : '••••••',
          managed_by: null,
          created_at: web.created_at,
          updated_at: '2026-01-02T02:04:05.000Z',
        },
      ],
      pagination: { next_cursor: null, has_more: false },
    }),
  'PATCH /v1/projects/web/env': () =>
    json({
      data: [],
      pagination: { next_cursor: null, has_more: false },
      deployment: deployment('web', 4, { status: 'queued', trigger: 'env' }),
    }),
  'GET /v1/projects/web/database': () =>
    json({
      status: 'running',
      image: 'postgres:17-alpine',
      version: '17.2',
      size_bytes: 7_654_321,
      connection: { host: 'slipway-web-db', port: 5432, database: 'app', user: 'app', password: '••••••' },
      url: 'postgres://app:%E2%80%A2%E2%80%A2@slipway-web-db:5432/app',
      created_at: web.created_at,
      warnings: ['The app\'s role "app" is this database\'s superuser'],
    }),
  'GET /v1/projects/web/database/dump': () =>
    new Response(dump, { headers: { 'content-type': 'application/octet-stream' } }),
  'DELETE /v1/projects/web/database': () => json({ deployment: null }),
  'PUT /v1/projects/web/quota': () =>
    json(project('web', { quota: { instances: 4, memory_mb: 4096, cpus: 2, volume_mb: null } })),
  'GET /v1/projects/web/metrics': () =>
    page([
      {
        container: 'c1',
        instance: '2-ab12cd34',
        cpu_percent: 1.234,
        memory_bytes: 25 * 1024 ** 2,
        memory_limit_bytes: 512 * 1024 ** 2,
        network_rx_bytes: 2048,
        network_tx_bytes: 1024,
        block_read_bytes: 0,
        block_write_bytes: 4096,
        restarts: 0,
        uptime_seconds: 3723,
      },
    ]),
  'GET /v1/projects/web/logs': (req) =>
    req.headers.get('accept') === 'text/event-stream'
      ? sse([
          'data: {"time":"2026-01-02T03:04:05.000Z","instance":"2-ab","stream":"stdout","line":"one"}\n\n',
          ': keep-alive\n\n',
          'data: {"time":"2026-01-02T03:04:06.000Z","instance":"2-ab","stream":"stderr","line":"two"}\n\n',
        ])
      : page([{ time: '2026-01-02T03:04:05.500Z', instance: '2-ab', stream: 'stdout', line: 'GET / 200' }]),
  'GET /v1/tokens': () =>
    page([
      token('tok_1'),
      token('tok_2', {
        name: 'old',
        scope: 'read',
        projects: null,
        revoked_at: '2026-01-01T00:00:00.000Z',
        last_used_at: null,
      }),
    ]),
  'POST /v1/tokens': () => json({ ...token('tok_3'), token: 'slw_secret' }, 201),
  'DELETE /v1/tokens/tok_1': () => json(token('tok_1', { revoked_at: '2026-01-02T03:04:05.000Z' })),
  'GET /v1/activity': () =>
    page([
      {
        id: 'act_1',
        created_at: '2026-01-02T03:00:05.000Z',
        action: 'deployment.create',
        target_type: 'deployment',
        target: 'dep_web_2',
        project: 'web',
        token: { id: 'tok_1', name: 'ci' },
        request_id: 'req_1',
        client_ip: '127.0.0.1',
        changes: {},
      },
    ]),
  'GET /v1/health': () =>
    json({
      status: 'ok',
      version: '0.1.0',
      uptime_seconds: 3723,
      database: { ok: true },
      docker: { ok: true, version: '20.10.24', error: null },
    }),
  'GET /v1/certificates': () => page([]),
  'GET /v1/me': () => json({ id: 'tok_admin', name: 'admin', scope: 'admin', projects: null }),
  'GET /v1/projects/api/deployments': () => page([]),
  'GET /v1/projects/web/forbidden': () => apiError(403, 'forbidden', 'This token may not do this'),
  'PATCH /v1/projects/web': () => json(web),
  'GET /v1/projects/web/volumes': () =>
    page([
      {
        name: 'data',
        mount_path: '/data',
        created: true,
        docker_volume: 'slipway-web-data-abcdefghij',
        size_bytes: 3 * 1024 ** 2,
        measured_at: '2026-01-02T03:00:00.000Z',
        size_limit_bytes: null,
        created_at: web.created_at,
      },
      {
        name: 'old',
        mount_path: null,
        created: true,
        docker_volume: 'slipway-web-old-klmnopqrst',
        size_bytes: null,
        measured_at: null,
        size_limit_bytes: 1024 ** 3,
        created_at: web.created_at,
      },
    ]),
  'GET /v1/projects/web/volumes/data/archive': () =>
    new Response(tarBytes, { headers: { 'content-type': 'application/x-tar' } }),
  'PUT /v1/projects/web/volumes/data/archive': () =>
    json({
      name: 'data',
      mount_path: '/data',
      created: true,
      docker_volume: 'slipway-web-data-uvwxyzabcd',
      size_bytes: null,
      measured_at: null,
      size_limit_bytes: null,
      created_at: web.created_at,
    }),
  'DELETE /v1/projects/web/volumes/old': () => new Response(null, { status: 204 }),
  'POST /v1/backups': () => json(backup, 201),
  'GET /v1/backups': () =>
    page([backup, { ...backup, id: 'bak_2', status: 'failed', location: null, bytes: null, error: 'boom' }]),
  'POST /v1/backups/bak_1/verify': () =>
    json({
      id: 'bak_1',
      ok: false,
      error: 'The backup is truncated: its last chunk is missing',
      parts: 0,
      checked_at: web.created_at,
    }),
});
afterAll(() => agent.stop());

const cli = (args: string[], opts: Parameters<typeof runCli>[1] = {}) => runCli(args, { env: agent.env, ...opts });
const sent = (method: string, path: string) => agent.received.filter((r) => r.method === method && r.path === path);

describe('projects', () => {
  test('list prints an aligned table', async () => {
    expect(await cli(['projects', 'list'])).toEqual({
      code: 0,
      stdout: [
        'NAME  HOSTNAME       STATE    INSTANCES  CREATED',
        'api   api.localhost  stopped  1          3d ago',
        'web   web.localhost  running  2          1d ago',
        '',
      ].join('\n'),
      stderr: '',
      asked: [],
    });
  });

  test('list --json prints the projects as the API returns them', async () => {
    const r = await cli(['projects', 'ls', '--json']);
    expect(JSON.parse(r.stdout)).toEqual([api, web]);
  });

  test('show prints the settings and the live release', async () => {
    expect((await cli(['projects', 'show', 'web'])).stdout).toBe(
      [
        'name:         web',
        'hostname:     web.localhost',
        'state:        running',
        'live:         #2 dep_web_2, 3m ago',
        'instances:    2',
        "port:         Dockerfile's EXPOSE, else 8080",
        'health check: GET /, 60 s to pass',
        'limits:       512 MiB, 1 CPU',
        'volumes:      -',
        'quota:        10 instances, 8192 MiB and 10 CPUs in all',
        'dockerfile:   ./Dockerfile or generated',
        'created:      2026-01-01T03:04:05.000Z',
        '',
      ].join('\n'),
    );
  });

  test('create sends the settings in the API field names', async () => {
    const r = await cli([
      'projects',
      'create',
      'new',
      '--port',
      '3000',
      '--memory-mb',
      '256',
      '--cpus',
      '0.5',
      '--health-check-path',
      '/healthz',
    ]);
    expect(r.stdout).toBe('Created project new; it will answer at new.localhost\n');
    expect(JSON.parse(new TextDecoder().decode(sent('POST', '/v1/projects').at(-1)!.body))).toEqual({
      name: 'new',
      port: 3000,
      memory_mb: 256,
      cpus: 0.5,
      health_check_path: '/healthz',
    });
  });

  test('quota sends the quota fields an admin set, and refuses an empty change', async () => {
    const r = await cli(['projects', 'quota', 'web', '--instances', '4', '--memory-mb', '4096', '--cpus', '2']);
    expect(r.stdout).toBe('Quota of web: 4 instances, 4096 MiB and 2 CPUs in all\n');
    expect(JSON.parse(new TextDecoder().decode(sent('PUT', '/v1/projects/web/quota').at(-1)!.body))).toEqual({
      instances: 4,
      memory_mb: 4096,
      cpus: 2,
    });
    const empty = await cli(['projects', 'quota', 'web']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('Nothing to change');
  });

  test('scale and stop call the lifecycle routes', async () => {
    expect((await cli(['projects', 'scale', 'web', '3'])).stdout).toBe('Scaled web to 3 instances\n');
    expect(JSON.parse(new TextDecoder().decode(sent('POST', '/v1/projects/web/scale').at(-1)!.body))).toEqual({
      instances: 3,
    });
    expect((await cli(['projects', 'stop', 'web'])).stdout).toBe('Stopped web\n');
  });

  test('rm refuses without --yes when nobody can confirm, and asks for the name on a terminal', async () => {
    const refused = await cli(['projects', 'rm', 'web']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'slipway: Delete project "web", its deployments and its containers? Refusing without --yes when not on a terminal\n',
    );
    const wrong = await cli(['projects', 'rm', 'web'], { tty: true, answers: ['we'] });
    expect({ code: wrong.code, stderr: wrong.stderr }).toEqual({
      code: 1,
      stderr: 'slipway: Not confirmed: nothing was deleted\n',
    });
    expect(sent('DELETE', '/v1/projects/web')).toHaveLength(0);
    const ok = await cli(['projects', 'rm', 'web'], { tty: true, answers: ['web'] });
    expect(ok.asked).toEqual([
      'Delete project "web", its deployments and its containers? This cannot be undone. Type "web" to confirm: ',
    ]);
    expect(ok.stdout).toBe('Deleted project web\n');
    expect(sent('DELETE', '/v1/projects/web')[0]!.query).toEqual({ confirm: 'web' });
  });
});

describe('deployments', () => {
  test('list shows number, id, status, timing and the failure reason', async () => {
    expect((await cli(['deployments', 'list', '--project', 'web'])).stdout).toBe(
      [
        '#  ID         STATUS  TRIGGER  STACK   CREATED  TOOK   REASON',
        '2  dep_web_2  live    upload   static  4m ago   3.5 s  -',
        '1  dep_web_1  failed  upload   -       4m ago   3.5 s  Health check failed: GET / answered 500',
        '',
      ].join('\n'),
    );
  });

  test('show finds a deployment by number', async () => {
    const r = await cli(['deployments', 'show', '1', '-p', 'web']);
    expect(r.stdout).toBe(
      [
        'deployment: #1 of web',
        'id:         dep_web_1',
        'status:     failed',
        'trigger:    upload',
        'source:     tar.gz, 2.0 KiB, sha256 abababababab',
        'stack:      -',
        'image:      slipway/web:1',
        'build:      1.5 s',
        'created:    2026-01-02T03:00:05.000Z',
        'finished:   2026-01-02T03:00:09.500Z',
        'reason:     Health check failed: GET / answered 500',
        '',
      ].join('\n'),
    );
    expect((await cli(['deployments', 'show', '#9', '-p', 'web'])).stderr).toBe(
      'slipway: No deployment #9 in project "web"\n',
    );
  });

  test('logs prints the build log as text, or as a JSON array of lines', async () => {
    expect((await cli(['deployments', 'logs', 'dep_web_2', '-p', 'web'])).stdout).toBe('line one\nline two\n');
    expect(JSON.parse((await cli(['deployments', 'logs', '2', '-p', 'web', '--json'])).stdout)).toEqual([
      'line one',
      'line two',
    ]);
  });

  test('logs -f --json prints one object per line', async () => {
    const r = await cli(['deployments', 'logs', '2', '-p', 'web', '-f', '--json']);
    expect(r.stdout).toBe('{"seq":1,"line":"Step 1/2"}\n{"seq":2,"line":"Deployment #2 is live"}\n');
    expect(r.code).toBe(0);
  });

  test('retry prints the new deployment id on stdout and how to follow it on stderr', async () => {
    const r = await cli(['deployments', 'retry', '1', '-p', 'web']);
    expect(r).toEqual({
      code: 0,
      stdout: 'dep_web_3\n',
      stderr:
        'Deployment #3 (retry of #1) of web is queued: dep_web_3\nFollow it with: slipway deployments logs 3 --project web --follow\n',
      asked: [],
    });
  });
});

describe('env', () => {
  test('list masks values unless --reveal', async () => {
    expect((await cli(['env', 'list', '-p', 'web'])).stdout).toBe(
      'KEY       VALUE   MANAGED BY  UPDATED\nGREETING  ••••••  -           1h ago\n',
    );
    expect((await cli(['env', 'list', '-p', 'web', '--reveal'])).stdout).toBe(
      'KEY       VALUE  MANAGED BY  UPDATED\nGREETING  hello  -           1h ago\n',
    );
    expect(sent('GET', '/v1/projects/web/env').at(-1)!.query).toEqual({ reveal: 'true' });
  });

  test('set and unset send one PATCH, with restart=false for --no-restart', async () => {
    const set = await cli(['env', 'set', '-p', 'web', 'A=1', 'B=x=y']);
    expect(set.stdout).toBe('Set A, B on web\n');
    expect(set.stderr).toStartWith('Deployment #4 (env) of web is queued: dep_web_4\n');
    const patch = sent('PATCH', '/v1/projects/web/env').at(-1)!;
    expect({ query: patch.query, body: JSON.parse(new TextDecoder().decode(patch.body)) }).toEqual({
      query: {},
      body: { vars: { A: '1', B: 'x=y' } },
    });
    await cli(['env', 'unset', '-p', 'web', 'A', 'B', '--no-restart']);
    const unset = sent('PATCH', '/v1/projects/web/env').at(-1)!;
    expect({ query: unset.query, body: JSON.parse(new TextDecoder().decode(unset.body)) }).toEqual({
      query: { restart: 'false' },
      body: { vars: { A: null, B: null } },
    });
  });
});

describe('db', () => {
  test('show prints the connection with the masked URL readable', async () => {
    expect((await cli(['db', 'show', '-p', 'web'])).stdout).toBe(
      [
        'status:   running',
        'version:  17.2',
        'size:     7.3 MiB',
        'host:     slipway-web-db:5432',
        'database: app',
        'user:     app',
        'url:      postgres://app:••@slipway-web-db:5432/app',
        'created:  2026-01-01T03:04:05.000Z',
        'warning: The app\'s role "app" is this database\'s superuser',
        '',
      ].join('\n'),
    );
  });

  test('dump streams to a file with mode 0600, and refuses a terminal as stdout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-dump-'));
    const r = await cli(['db', 'dump', '-p', 'web', '-o', 'web.dump'], { cwd: dir });
    expect(r.stderr).toBe('Wrote 9 B of pg_dump to web.dump\n');
    expect(new Uint8Array(readFileSync(join(dir, 'web.dump')))).toEqual(dump);
    expect(statSync(join(dir, 'web.dump')).mode & 0o777).toBe(0o600);
    const tty = await cli(['db', 'dump', '-p', 'web'], { tty: true });
    expect({ code: tty.code, stderr: tty.stderr }).toEqual({
      code: 2,
      stderr: 'slipway: A dump is binary: redirect it (slipway db dump > web.dump) or pass --output <file>\n',
    });
  });

  test('dump writes the bytes to a redirected stdout', async () => {
    expect((await cli(['db', 'dump', '-p', 'web'])).stdout).toBe(new TextDecoder().decode(dump));
  });

  test('rm confirms with the project name', async () => {
    expect((await cli(['db', 'rm', '-p', 'web', '--yes'])).stdout).toBe('Deleted the database of web\n');
    expect(sent('DELETE', '/v1/projects/web/database')[0]!.query).toEqual({ confirm: 'web' });
  });
});

describe('backups', () => {
  test('create prints the location alone on stdout', async () => {
    const r = await cli(['backup', 'create']);
    expect(r.stdout).toBe(`${backup.location}\n`);
    expect(r.stderr).toBe('Backup bak_1: 2.0 MiB, 0 parts\n');
  });

  test('list prints one row per backup', async () => {
    expect((await cli(['backup', 'list'])).stdout).toBe(
      [
        'ID     STATUS    CREATED  SIZE     LOCATION',
        `bak_1  complete  4m ago   2.0 MiB  ${backup.location}`,
        'bak_2  failed    4m ago   -        boom',
        '',
      ].join('\n'),
    );
  });

  test('verify exits 1 with the reason when the backup would not restore', async () => {
    const r = await cli(['backup', 'verify', 'bak_1']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 1,
      stderr: 'slipway: Backup bak_1 would not restore: The backup is truncated: its last chunk is missing\n',
    });
  });

  test('restore refuses to run without a key, and without --data-dir', async () => {
    const noKey = await cli(['restore', 'x.slwb', '--data-dir', 'restored']);
    expect({ code: noKey.code, stderr: noKey.stderr }).toEqual({
      code: 2,
      stderr: 'slipway: A backup opens with the master key: pass --master-key-file <file> or set SLIPWAY_MASTER_KEY\n',
    });
    expect((await cli(['restore', 'x.slwb'])).code).toBe(2);
  });
});

describe('volumes', () => {
  test('list prints where each volume mounts, its size and its limit', async () => {
    expect((await cli(['volumes', 'list', '-p', 'web'])).stdout).toBe(
      [
        'NAME  MOUNT                     SIZE     LIMIT    DOCKER VOLUME',
        'data  /data                     3.0 MiB  none     slipway-web-data-abcdefghij',
        'old   (not mounted; data kept)  -        1.0 GiB  slipway-web-old-klmnopqrst',
        '',
      ].join('\n'),
    );
  });

  test('download writes the tar to a file with mode 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-volume-'));
    const r = await cli(['volumes', 'download', 'data', '-p', 'web', '-o', 'data.tar'], { cwd: dir });
    expect(r.stderr).toBe('Wrote 1.0 KiB of tar to data.tar\n');
    expect(new Uint8Array(readFileSync(join(dir, 'data.tar')))).toEqual(tarBytes);
    expect(statSync(join(dir, 'data.tar')).mode & 0o777).toBe(0o600);
  });

  test('restore streams the file with its media type after confirmation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-volume-'));
    writeFileSync(join(dir, 'data.tar.gz'), tarBytes);
    const refused = await cli(['volumes', 'restore', 'data', 'data.tar.gz', '-p', 'web'], { cwd: dir });
    expect(refused.code).toBe(2);
    const r = await cli(['volumes', 'restore', 'data', 'data.tar.gz', '-p', 'web', '--yes'], { cwd: dir });
    expect(r.stdout).toBe('Restored data.tar.gz into volume data of web\n');
    const put = sent('PUT', '/v1/projects/web/volumes/data/archive').at(-1)!;
    expect(put.headers.get('content-type')).toBe('application/gzip');
    expect(new Uint8Array(put.body)).toEqual(tarBytes);
  });

  test('rm confirms with the volume name', async () => {
    expect((await cli(['volumes', 'rm', 'old', '-p', 'web', '--yes'])).stdout).toBe('Deleted volume old of web\n');
    expect(sent('DELETE', '/v1/projects/web/volumes/old')[0]!.query).toEqual({ confirm: 'old' });
  });

  test('projects update sets the volumes and whether they are shared', async () => {
    await cli([
      'projects',
      'update',
      'web',
      '--volume',
      'data:/data',
      '--volume',
      'cache:/var/cache',
      '--volumes-shared',
      'yes',
    ]);
    expect(JSON.parse(new TextDecoder().decode(sent('PATCH', '/v1/projects/web').at(-1)!.body))).toEqual({
      volumes: [
        { name: 'data', mount_path: '/data' },
        { name: 'cache', mount_path: '/var/cache' },
      ],
      volumes_shared: true,
    });
    await cli(['projects', 'update', 'web', '--no-volumes']);
    expect(JSON.parse(new TextDecoder().decode(sent('PATCH', '/v1/projects/web').at(-1)!.body))).toEqual({
      volumes: [],
    });
    const bad = await cli(['projects', 'update', 'web', '--volume', 'data']);
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({
      code: 2,
      stderr: 'slipway: --volume takes NAME:/PATH, such as data:/data, not "data"\n',
    });
  });
});

describe('observing', () => {
  test('metrics prints one row per container', async () => {
    expect((await cli(['metrics', '-p', 'web'])).stdout).toBe(
      [
        'INSTANCE    CPU   MEMORY                NET RX / TX        DISK R / W     RESTARTS  UP',
        '2-ab12cd34  1.2%  25.0 MiB / 512.0 MiB  2.0 KiB / 1.0 KiB  0 B / 4.0 KiB  0         1h 2m',
        '',
      ].join('\n'),
    );
  });

  test('logs prints the tail, and -f streams the SSE events', async () => {
    expect((await cli(['logs', '-p', 'web', '-n', '20', '--since', '10m'])).stdout).toBe(
      '2026-01-02 03:04:05Z 2-ab GET / 200\n',
    );
    expect(sent('GET', '/v1/projects/web/logs').at(-1)!.query).toEqual({
      tail: '20',
      since: '2026-01-02T02:54:05.000Z',
    });
    expect((await cli(['logs', '-p', 'web', '-f'])).stdout).toBe(
      '2026-01-02 03:04:05Z 2-ab one\n2026-01-02 03:04:06Z 2-ab two\n',
    );
    expect((await cli(['logs', '-p', 'web', '--json'])).stdout).toBe(
      '{"time":"2026-01-02T03:04:05.500Z","instance":"2-ab","stream":"stdout","line":"GET / 200"}\n',
    );
  });

  test('activity and status', async () => {
    expect((await cli(['activity'])).stdout).toBe(
      'WHEN    ACTION             TARGET     BY  REQUEST\n4m ago  deployment.create  dep_web_2  ci  req_1\n',
    );
    expect((await cli(['status'])).stdout).toBe(
      [
        `agent:   ${agent.url} (token from SLIPWAY_TOKEN)`,
        'version: 0.1.0, up 1h 2m',
        'health:  ok (database ok, Docker 20.10.24)',
        'token:   admin (admin, all projects)',
        '',
        'PROJECT  HOSTNAME       STATE    INSTANCES  LATEST DEPLOYMENT',
        'api      api.localhost  stopped  1          never deployed',
        'web      web.localhost  running  2          #2 live 4m ago',
        '',
      ].join('\n'),
    );
  });
});

describe('tokens', () => {
  test('list shows state without secrets', async () => {
    expect((await cli(['tokens', 'list'])).stdout).toBe(
      [
        'ID     NAME  SCOPE   PROJECTS  HINT      LAST USED  STATE',
        'tok_1  ci    deploy  web       slw_AbCd  1h ago     active',
        'tok_2  old   read    all       slw_AbCd  -          revoked',
        '',
      ].join('\n'),
    );
  });

  test('create through the agent prints the secret alone on stdout', async () => {
    const r = await cli(['tokens', 'create', '--name', 'ci', '--scope', 'deploy', '--project', 'web']);
    expect(r).toEqual({
      code: 0,
      stdout: 'slw_secret\n',
      stderr: 'Created token tok_3 "ci" with scope deploy for web. It is shown once:\n',
      asked: [],
    });
    expect(JSON.parse(new TextDecoder().decode(sent('POST', '/v1/tokens')[0]!.body))).toEqual({
      name: 'ci',
      scope: 'deploy',
      projects: ['web'],
      expires_at: null,
    });
  });

  test('revoke', async () => {
    expect((await cli(['tokens', 'revoke', 'tok_1'])).stdout).toBe('Revoked token tok_1 "ci"\n');
  });
});

describe('errors', () => {
  test('show the API message and request id, exit 1', async () => {
    expect(await cli(['projects', 'show', 'nope'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'slipway: No project named "nope"\n  request id: req_abc123\n',
      asked: [],
    });
  });

  test('a refused token exits with code 3', async () => {
    const denied = fakeAgent({
      'GET /v1/projects': () => apiError(403, 'forbidden', 'This token is limited to the projects web'),
    });
    const r = await runCli(['projects', 'list'], { env: denied.env });
    denied.stop();
    expect(r).toEqual({
      code: 3,
      stdout: '',
      stderr: 'slipway: This token is limited to the projects web\n  request id: req_abc123\n',
      asked: [],
    });
  });

  test('validation issues are listed under the message', async () => {
    const strict = fakeAgent({
      'POST /v1/projects': () =>
        apiError(422, 'validation_error', 'Invalid request body', [
          { path: '/port', message: 'Expected an integer from 1 to 65535' },
        ]),
    });
    const r = await runCli(['projects', 'create', 'web'], { env: strict.env });
    strict.stop();
    expect(r.stderr).toBe(
      'slipway: Invalid request body\n  /port: Expected an integer from 1 to 65535\n  request id: req_abc123\n',
    );
  });

  test('an agent that does not answer exits with code 3', async () => {
    const r = await runCli(['status'], { env: { SLIPWAY_URL: 'http://127.0.0.1:9', SLIPWAY_TOKEN: 'slw_x' } });
    expect(r).toEqual({
      code: 3,
      stdout: '',
      stderr:
        'slipway: Cannot reach the Slipway agent at http://127.0.0.1:9: connection refused\n  Is it running? On its host: `systemctl status slipway` or `slipway doctor`\n',
      asked: [],
    });
  });
});
