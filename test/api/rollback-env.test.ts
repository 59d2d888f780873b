import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { PG_IMAGE } from '../databases/harness.ts';
import { makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { requireDocker } from '../helpers/docker.ts';
import { queueDeployment } from '../helpers/deployments.ts';

// A rollback needs its release's image to exist; any local image will do, nothing runs it here.
const hasDocker = await requireDocker();
const t = makeTestApp();
afterAll(() => t.close());

const OLD_SECRET = 'sk_live_old_7f3a9c';
const NEW_SECRET = 'sk_live_new_2b8e4d';

/** A deployment that went live with the project's env of the moment, as the pipeline leaves it. */
function release(projectId: string, status: 'live' | 'replaced'): string {
  const { id } = queueDeployment(t.deps, 'web', {
    stack: 'static',
    image_tag: PG_IMAGE,
    exposed_port: 8080,
    env_snapshot: t.deps.env.sealSnapshot(projectId, t.deps.env.values(projectId)),
  });
  t.deps.db.prepare('UPDATE deployments SET status = ? WHERE id = ?').run(status, id);
  return id;
}

let first: string;

beforeAll(() => {
  const p = t.deps.projects.create(TEST_ACTOR, { name: 'web' });
  t.deps.env.update(TEST_ACTOR, 'web', { STRIPE_KEY: OLD_SECRET, FEATURE_X: 'on', SAME: 'same' });
  first = release(p.id, 'replaced');
  // The key leaked and was rotated; a flag went away and a new one came.
  t.deps.env.update(TEST_ACTOR, 'web', { STRIPE_KEY: NEW_SECRET, FEATURE_X: null, FEATURE_Y: 'on' });
  release(p.id, 'live');
});

describe.skipIf(!hasDocker)('a rollback that brings back an older env', () => {
  test('says which keys change back, in its response, its log and the activity log, never their values', async () => {
    const res = await t.req('POST', '/v1/projects/web/rollback', { body: { deployment_id: first } });
    expect(res.status).toBe(202);
    const text = await res.text();
    const body = JSON.parse(text) as { id: string; trigger: string; warnings: string[] };
    expect(body.trigger).toBe('rollback');
    expect(body.warnings).toEqual([
      'Rolling back to #1 sets STRIPE_KEY back to the value it had then; if a secret was rotated since, set it again with `slipway env set`',
      'Rolling back to #1 brings back FEATURE_X, unset since',
      'Rolling back to #1 removes FEATURE_Y, set since',
    ]);
    expect(text).not.toContain(OLD_SECRET);
    expect(text).not.toContain(NEW_SECRET);

    const log = await (await t.req('GET', `/v1/projects/web/deployments/${body.id}/logs`)).text();
    expect(log.split('\n').filter(Boolean)).toEqual([
      expect.stringContaining('Deployment #3 queued (rollback)'),
      ...body.warnings.map((w) => expect.stringContaining(`Warning: ${w}`)),
    ]);
    expect(log).not.toContain(OLD_SECRET);

    const activity = (await (await t.req('GET', '/v1/activity?action=deployment.rollback')).json()) as {
      data: { changes: Record<string, unknown> }[];
    };
    expect(activity.data[0]!.changes.env).toEqual({
      changed: ['STRIPE_KEY'],
      restored: ['FEATURE_X'],
      removed: ['FEATURE_Y'],
    });
    expect(JSON.stringify(activity.data)).not.toContain(OLD_SECRET);
    // Nothing changes until the rollback goes live: the rotated secret is still the current one.
    expect(t.deps.env.values(t.deps.projects.get('web').id).STRIPE_KEY).toBe(NEW_SECRET);
  });

  test('a rollback to a release with the same env has no warnings', async () => {
    const p = t.deps.projects.get('web');
    const same = release(p.id, 'replaced');
    const res = await t.req('POST', '/v1/projects/web/rollback', { body: { deployment_id: same } });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: string; warnings: string[] };
    expect(body.warnings).toEqual([]);
    const log = await (await t.req('GET', `/v1/projects/web/deployments/${body.id}/logs`)).text();
    expect(log).not.toContain('Warning');
  });
});
