import { afterAll, describe, expect, test } from 'bun:test';
import { releaseEnv } from '../../src/release/release-env.ts';
import { makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { queueDeployment } from '../helpers/deployments.ts';

const t = makeTestApp();
t.deps.projects.create(TEST_ACTOR, { name: 'web' });
const project = { id: t.deps.projects.get('web').id };
afterAll(() => t.close());

describe("a release's env", () => {
  test('is sealed into the deployment in the commit it is given when it first starts, and reused after', () => {
    t.deps.env.update(TEST_ACTOR, 'web', { GREETING: 'hello' });
    const row = queueDeployment(t.deps, 'web');
    const commits: string[] = [];
    const env = releaseEnv(t.deps.env, t.deps.deploymentRepo, (write) => {
      commits.push(row.id);
      write();
    });
    expect(env.envFor(project, { id: row.id, env_snapshot: null })).toEqual({ GREETING: 'hello' });
    expect(commits).toEqual([row.id]);
    const stored = t.deps.deploymentRepo.findAny(row.id)!;
    expect(stored.env_snapshot).toEqual(expect.any(String));

    // A later env change does not reach the deployment's instances, nor is anything written again.
    t.deps.env.update(TEST_ACTOR, 'web', { GREETING: 'changed' });
    expect(env.envFor(project, stored)).toEqual({ GREETING: 'hello' });
    expect(commits).toEqual([row.id]);
  });
});
