import { afterAll, describe, expect, test } from 'bun:test';
import { BuildStepFailed } from '../../src/deployments/failures.ts';
import { makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { queueDeployment } from '../helpers/deployments.ts';
import { runCli } from './harness.ts';

// The CLI against a real agent app, served on loopback; the delivery worker is not started, so
// deliveries stay as the test leaves them.
const t = makeTestApp({ SLIPWAY_WEBHOOK_ALLOW_PRIVATE: 'true' });
t.deps.projects.create(TEST_ACTOR, { name: 'web' });
const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (req) => t.app.handle(req) });
const env = { SLIPWAY_URL: `http://127.0.0.1:${server.port}`, SLIPWAY_TOKEN: t.adminToken };
const cli = (args: string[]) => runCli(args, { env });
afterAll(() => {
  server.stop(true);
  t.close();
});

describe('slipway webhooks', () => {
  let id = '';
  test('add prints the secret alone on stdout and the summary on stderr', async () => {
    const r = await cli([
      'webhooks',
      'add',
      'http://127.0.0.1:9/hook',
      '-e',
      'deployment.failed',
      'deployment.live',
      '-p',
      'web',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^whsec_[A-Za-z0-9_-]{43}\n$/);
    id = /Added webhook (whk_\w+) for deployment.failed, deployment.live/.exec(r.stderr)![1]!;
  });

  test('list shows the webhook and never the secret', async () => {
    const r = await cli(['webhooks', 'list']);
    expect(r.stdout.split('\n').slice(0, 2)).toEqual([
      'ID                              URL                      EVENTS                             PROJECT  DESCRIPTION',
      `${id}  http://127.0.0.1:9/hook  deployment.failed,deployment.live  web      -`,
    ]);
  });

  test('deliveries lists what was queued, and redeliver refuses one still being retried', async () => {
    const dep = queueDeployment(t.deps, 'web');
    t.deps.lifecycle.end(dep.id, new BuildStepFailed(null, 'exit 1'));
    t.deps.events.drain();
    const r = await cli(['webhooks', 'deliveries', id]);
    const [, row] = r.stdout.split('\n');
    expect(row).toMatch(/^whd_\w+ +deployment\.failed +pending +0 +- +- +/);
    const delivery = row!.split(' ')[0]!;
    const again = await cli(['webhooks', 'redeliver', id, delivery]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`Cannot redeliver ${delivery}: it is still being retried`);
  });

  test('an unknown event is a usage error, before any request', async () => {
    const r = await cli(['webhooks', 'add', 'http://127.0.0.1:9/', '-e', 'deployment.exploded']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Unknown event deployment.exploded');
  });

  test('rm removes it', async () => {
    expect((await cli(['webhooks', 'rm', id])).stdout).toBe(`Removed webhook ${id}\n`);
    expect((await cli(['webhooks', 'list'])).stdout).toBe('No webhooks\n');
  });
});

describe('slipway dead-letter', () => {
  test('lists what gave up and retries a failed deployment', async () => {
    const list = await cli(['dead-letter', '-p', 'web', '--json']);
    const items = JSON.parse(list.stdout) as { kind: string; id: string; reason: string }[];
    expect(items[0]).toMatchObject({ kind: 'deployment', reason: 'Build failed: exit 1' });
    const table = await cli(['dead-letter']);
    expect(table.stdout).toContain(`deployment  ${items[0]!.id}  web      Build failed: exit 1`);
    const retry = await cli(['dead-letter', 'retry', 'deployment', items[0]!.id]);
    // The failed deployment kept no source (queued directly, not uploaded): the API says so.
    expect(retry.code).toBe(1);
    expect(retry.stderr).toContain('its source is no longer kept');
    const bad = await cli(['dead-letter', '--kind', 'cluster']);
    expect(bad.code).toBe(2);
  });
});
