import { afterAll, beforeEach, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { apiError, fakeAgent, json, runCli, sse } from './harness.ts';
import { deployment, project } from './samples.ts';

let exists = false;
let logs: () => Response;
let cancelled: () => void = () => {};

const agent = fakeAgent({
  'GET /v1/projects/my-site': () =>
    exists ? json(project('my-site')) : apiError(404, 'not_found', 'No project named "my-site"'),
  'POST /v1/projects': () => {
    exists = true;
    return json(project('my-site'), 201);
  },
  'POST /v1/projects/my-site/deployments': () =>
    json(deployment('my-site', 1, { status: 'queued', stack: null, finished_at: null }), 202),
  'GET /v1/projects/my-site/deployments/dep_my-site_1/logs': () => logs(),
  'POST /v1/projects/my-site/deployments/dep_my-site_1/cancel': () => {
    cancelled();
    return json(deployment('my-site', 1, { status: 'building' }));
  },
});
afterAll(() => agent.stop());
beforeEach(() => {
  exists = false;
  agent.received.length = 0;
});

/** A source directory named My_Site, so the project is my-site. */
function site(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'slipway-deploy-')), 'My_Site');
  mkdirSync(join(dir, '.git'), { recursive: true });
  writeFileSync(join(dir, '.git', 'HEAD'), 'ref: main');
  writeFileSync(join(dir, 'index.html'), '<h1>hi</h1>');
  writeFileSync(join(dir, '.slipwayignore'), 'notes.txt\n');
  writeFileSync(join(dir, 'notes.txt'), 'private');
  return dir;
}

const live = [
  'id: 1\ndata: Deployment #1 queued (upload)\n\n',
  'id: 2\ndata: Detected a static app\n\n',
  'event: end\ndata: {"status":"live","failure_reason":null}\n\n',
];
const upload = () => agent.received.find((r) => r.method === 'POST' && r.path === '/v1/projects/my-site/deployments')!;
const names = (tgz: Uint8Array) =>
  [
    ...gunzipSync(tgz)
      .toString('latin1')
      .matchAll(/(?:^|\0{100,})([\w./-]+)\0/g),
  ].map((m) => m[1]);

describe('slipway deploy', () => {
  test('creates the missing project with --yes and streams the directory as a chunked tar.gz', async () => {
    const dir = site();
    const r = await runCli(['deploy', dir, '--yes'], { env: agent.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('dep_my-site_1\n');
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe('Created project my-site; it will answer at my-site.localhost');
    expect(lines[1]).toBe(`Packing ${dir} for project my-site: 2 files, 21 B (honouring .slipwayignore)`);
    // The harness's clock stands still, so the upload takes 0.0 s and has no speed.
    expect(lines[2]).toMatch(/^Uploaded 2 files \(21 B\) as \d+ B of tar\.gz in 0\.0 s$/);
    expect(lines.slice(3)).toEqual([
      'Deployment #1 (upload) of my-site is queued: dep_my-site_1',
      'Follow it with: slipway deployments logs 1 --project my-site --follow',
      '',
    ]);
    const req = upload();
    expect(req.headers.get('content-type')).toBe('application/gzip');
    expect(req.headers.get('transfer-encoding')).toBe('chunked');
    expect(req.headers.get('content-length')).toBeNull();
    const inTar = gunzipSync(req.body).toString('latin1');
    expect(inTar).toContain('<h1>hi</h1>');
    expect(inTar).not.toContain('private');
    expect(inTar).not.toContain('ref: main');
    expect(names(req.body)).toContain('index.html');
  });

  test('leaves .env files out and says so in one line', async () => {
    const dir = site();
    writeFileSync(join(dir, '.env'), 'STRIPE_KEY=sk_live_leaked');
    writeFileSync(join(dir, '.env.local'), 'OTHER=1');
    const r = await runCli(['deploy', dir, '--yes'], { env: agent.env });
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n');
    expect(lines[1]).toBe(`Packing ${dir} for project my-site: 2 files, 21 B (honouring .slipwayignore)`);
    expect(lines[2]).toBe(
      'Left out .env, .env.local (secrets; set them with `slipway env set`, or send them with a `!.env` line in .slipwayignore)',
    );
    const inTar = gunzipSync(upload().body).toString('latin1');
    expect(inTar).not.toContain('sk_live_leaked');
    expect(names(upload().body)).not.toContain('.env');
  });

  test('sends .env when .slipwayignore re-includes it, with no line about it', async () => {
    const dir = site();
    writeFileSync(join(dir, '.slipwayignore'), 'notes.txt\n!.env\n');
    writeFileSync(join(dir, '.env'), 'PUBLIC_FLAG=1');
    const r = await runCli(['deploy', dir, '--yes'], { env: agent.env });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('Left out');
    expect(gunzipSync(upload().body).toString('latin1')).toContain('PUBLIC_FLAG=1');
  });

  test('refuses to create a project without --yes when nobody can confirm', async () => {
    const r = await runCli(['deploy', site()], { env: agent.env });
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'slipway: Project "my-site" does not exist: pass --yes to create it, or run `slipway projects create my-site`\n',
      asked: [],
    });
    expect(agent.received.map((q) => `${q.method} ${q.path}`)).toEqual(['GET /v1/projects/my-site']);
  });

  test('asks on a terminal, and deploys nothing when the answer is no', async () => {
    const r = await runCli(['deploy', site()], { env: agent.env, tty: true, answers: ['n'] });
    expect(r.asked).toEqual(['Project "my-site" does not exist. Create it? [y/N] ']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: 'slipway: Nothing was deployed\n' });
    expect(agent.received.map((q) => `${q.method} ${q.path}`)).toEqual(['GET /v1/projects/my-site']);
  });

  test('--project overrides the name from the directory', async () => {
    const r = await runCli(['deploy', site(), '--project', 'Bad_Name'], { env: agent.env });
    expect(r.stderr).toBe(
      'slipway: "Bad_Name" is not a valid project name: lower-case letters, digits and dashes, starting with a letter, at most 63 characters\n',
    );
  });

  test('a progress bar with bytes and speed is drawn on a terminal', async () => {
    exists = true;
    const r = await runCli(['deploy', site()], { env: agent.env, tty: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Uploading \[█+\] 100% \| 21 B of 21 B \| \d+ B sent at [\d.]+ (B|KiB|MiB)\/s/);
  });
});

describe('slipway deploy --follow', () => {
  test('prints the build log and exits 0 once the deployment is live', async () => {
    exists = true;
    logs = () => sse(live);
    const r = await runCli(['deploy', site(), '--follow'], { env: agent.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Deployment #1 queued (upload)\nDetected a static app\n');
    expect(r.stderr.split('\n').slice(-2)).toEqual(['Deployment #1 of my-site is live at my-site.localhost', '']);
  });

  test('exits 1 with the reason when the deployment fails', async () => {
    exists = true;
    logs = () =>
      sse([
        'id: 1\ndata: Step 2/3 : RUN make\n\n',
        'event: end\ndata: {"status":"failed","failure_reason":"Dockerfile step 2/3 failed: make: not found"}\n\n',
      ]);
    const r = await runCli(['deploy', site(), '--follow'], { env: agent.env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('Step 2/3 : RUN make\n');
    expect(r.stderr.split('\n').slice(-2)).toEqual([
      'slipway: Deployment #1 of my-site failed: Dockerfile step 2/3 failed: make: not found',
      '',
    ]);
  });

  test('resumes a dropped log stream with Last-Event-ID', async () => {
    exists = true;
    let calls = 0;
    logs = () => (++calls === 1 ? sse(live.slice(0, 1)) : sse(live.slice(1)));
    const r = await runCli(['deploy', site(), '--follow'], { env: agent.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Deployment #1 queued (upload)\nDetected a static app\n');
    const follows = agent.received.filter((q) => q.path.endsWith('/logs'));
    expect(follows.map((q) => [q.query.follow, q.headers.get('last-event-id')])).toEqual([
      ['true', null],
      ['true', '1'],
    ]);
  });

  test('Ctrl-C when not on a terminal stops following at once and leaves the deployment running', async () => {
    exists = true;
    logs = () => sse([...live.slice(0, 1), ': keep-alive\n\n'], 60_000);
    const r = await runCli(['deploy', site(), '--follow'], {
      env: agent.env,
      onInterruptReady: (interrupt) => setTimeout(interrupt, 100),
    });
    expect(r.code).toBe(130);
    expect(r.stderr.split('\n').slice(-3)).toEqual([
      'slipway: Stopped following; deployment #1 of my-site goes on',
      '  Cancel it with: slipway deployments cancel 1 --project my-site',
      '',
    ]);
    expect(agent.received.some((q) => q.path.endsWith('/cancel'))).toBe(false);
  });

  test('Ctrl-C on a terminal asks, and a yes cancels the deployment', async () => {
    exists = true;
    let end: () => void = () => {};
    const ended = new Promise<void>((resolve) => (end = resolve));
    cancelled = end;
    logs = () => {
      const enc = new TextEncoder();
      return new Response(
        new ReadableStream({
          async start(c) {
            c.enqueue(enc.encode(live[0]!));
            await ended;
            c.enqueue(
              enc.encode(
                'id: 2\ndata: Deployment canceled: Canceled by request\n\nevent: end\ndata: {"status":"canceled","failure_reason":"Canceled by request"}\n\n',
              ),
            );
            c.close();
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    };
    const r = await runCli(['deploy', site(), '--follow'], {
      env: agent.env,
      tty: true,
      answers: ['y'],
      onInterruptReady: (interrupt) => setTimeout(interrupt, 100),
    });
    expect(r.asked).toEqual(['\nCancel deployment #1 of my-site? [y/N] ']);
    expect(r.code).toBe(130);
    expect(r.stdout).toBe('Deployment #1 queued (upload)\nDeployment canceled: Canceled by request\n');
    expect(r.stderr).toContain('Canceling deployment #1…\n');
    expect(r.stderr.split('\n').slice(-2)).toEqual(['slipway: Canceled deployment #1 of my-site', '']);
  });

  test('Ctrl-C on a terminal and a no keeps following', async () => {
    exists = true;
    logs = () => sse(live, 300);
    const r = await runCli(['deploy', site(), '--follow'], {
      env: agent.env,
      tty: true,
      answers: ['n'],
      onInterruptReady: (interrupt) => setTimeout(interrupt, 100),
    });
    expect(r.asked).toEqual(['\nCancel deployment #1 of my-site? [y/N] ']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Deployment #1 queued (upload)\nDetected a static app\n');
    expect(agent.received.some((q) => q.path.endsWith('/cancel'))).toBe(false);
  });
});
