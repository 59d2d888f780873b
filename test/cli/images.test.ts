import { afterAll, describe, expect, test } from 'bun:test';
import { fakeAgent, json, page, runCli } from './harness.ts';
import { deployment, project } from './samples.ts';

const IMAGE = 'registry.example.com/team/app:1.4';
const registry = {
  id: 'reg_1',
  host: 'registry.example.com',
  username: 'ci',
  created_at: '2026-01-01T03:04:05.000Z',
  updated_at: '2026-01-02T02:04:05.000Z',
};
const comparison = {
  from: { id: 'dep_web_12', number: 12, status: 'replaced', created_at: '2026-01-01T03:04:05.000Z' },
  to: { id: 'dep_web_14', number: 14, status: 'live', created_at: '2026-01-02T03:04:05.000Z' },
  source: { available: true, added: ['lib/new.js'], removed: ['old.css'], changed: ['index.html'], unchanged: 7 },
  env: { available: true, added: ['ADDED'], removed: [], changed: ['API_KEY'] },
  settings: { available: true, changed: [{ name: 'memory_mb', from: 512, to: 1024 }] },
  image: {
    changed: true,
    from: {
      ref: null,
      digest: null,
      tag: 'slipway/web:12-abc',
      id: 'sha256:0123456789abcdef0123',
      stack: 'node',
      exposed_port: 8080,
    },
    to: {
      ref: IMAGE,
      digest: `sha256:${'c'.repeat(64)}`,
      tag: 'slipway/web:14-def',
      id: 'sha256:9',
      stack: null,
      exposed_port: null,
    },
  },
};

const agent = fakeAgent({
  'GET /v1/projects/web': () => json(project('web')),
  'POST /v1/projects/web/deployments': () =>
    json(deployment('web', 5, { status: 'queued', source: null, image: null, image_ref: IMAGE }), 202),
  'POST /v1/registries': () => json(registry, 201),
  'GET /v1/registries': () => page([registry]),
  'DELETE /v1/registries/registry.example.com': () => json(registry),
  'GET /v1/projects/web/deployments/compare': () => json(comparison),
});
afterAll(() => agent.stop());
const env = agent.env;

describe('images and registries on the command line', () => {
  test('deploy --image sends the reference as JSON and prints the queued deployment', async () => {
    const r = await runCli(['deploy', '--image', IMAGE, '-p', 'web'], { env });
    expect(r.code).toBe(0);
    const sent = agent.received.find((q) => q.method === 'POST' && q.path === '/v1/projects/web/deployments')!;
    expect(sent.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(new TextDecoder().decode(sent.body))).toEqual({ image: IMAGE });
    expect(r.stdout).toBe('dep_web_5\n');
    expect(r.stderr).toContain(`Deployment #5 (image ${IMAGE}) of web is queued: dep_web_5`);
  });

  test('registries add reads the password from stdin and never puts it on the command line', async () => {
    const r = await runCli(['registries', 'add', 'registry.example.com', '-u', 'ci', '--password-stdin'], {
      env,
      stdin: 's3cret-token\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Added the credentials of registry.example.com (user ci)\n');
    const sent = agent.received.find((q) => q.method === 'POST' && q.path === '/v1/registries')!;
    expect(JSON.parse(new TextDecoder().decode(sent.body))).toEqual({
      host: 'registry.example.com',
      username: 'ci',
      password: 's3cret-token',
    });
  });

  test('registries add without a password to read is a usage error', async () => {
    const r = await runCli(['registries', 'add', 'registry.example.com', '-u', 'ci'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('No password: pass --password-stdin');
  });

  test('registries list prints hosts and users, and rm removes one', async () => {
    const list = await runCli(['registries', 'ls'], { env });
    expect(list.stdout.split('\n')[0]).toMatch(/^HOST\s+USERNAME\s+UPDATED$/);
    expect(list.stdout).toMatch(/registry\.example\.com\s+ci\s+1h ago/);
    const rm = await runCli(['registries', 'rm', 'registry.example.com'], { env });
    expect(rm.code).toBe(0);
    expect(rm.stdout).toBe('Removed the credentials of registry.example.com\n');
  });

  test('deployments diff asks for the two numbers and prints files, env names, settings and images', async () => {
    const r = await runCli(['deployments', 'diff', '12', '#14', '-p', 'web'], { env });
    expect(r.code).toBe(0);
    const sent = agent.received.findLast((q) => q.path === '/v1/projects/web/deployments/compare')!;
    expect(sent.query).toEqual({ from: '12', to: '14' });
    expect(r.stdout).toBe(
      [
        'Deployment #12 → #14 of web',
        'source: 1 added, 1 removed, 1 changed, 7 unchanged',
        '  + lib/new.js',
        '  - old.css',
        '  ~ index.html',
        'env (names only): 1 added, 0 removed, 1 changed',
        '  + ADDED',
        '  ~ API_KEY',
        'settings:',
        '  memory_mb: 512 → 1024',
        'image: changed',
        '  from slipway/web:12-abc sha256:0123456789ab',
        `  to   ${IMAGE} sha256:${'c'.repeat(64)}`,
        '',
      ].join('\n'),
    );
  });
});
