import { afterAll, describe, expect, test } from 'bun:test';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorOf, makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { MASK } from '../../src/secrets/masker.ts';
import { BuildProgress } from '../../src/build/progress.ts';

const t = makeTestApp();
t.deps.projects.create(TEST_ACTOR, { name: 'web' });
afterAll(() => t.close());
const SECRET = 'sk_live_4f9a8b7c6d5e';

type EnvList = { data: { key: string; value: string }[]; deployment?: unknown };

describe('/v1/projects/{name}/env', () => {
  test('sets and unsets atomically and lists keys with masked values', async () => {
    const res = await t.req('PATCH', '/v1/projects/web/env', {
      body: { vars: { STRIPE_KEY: SECRET, GREETING: 'hello $USER `x`', TEMP: 'x' } },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as EnvList;
    expect(body.data.map((v) => [v.key, v.value])).toEqual([
      ['GREETING', MASK],
      ['STRIPE_KEY', MASK],
      ['TEMP', MASK],
    ]);
    expect(body.deployment).toBeNull(); // nothing is live, so nothing rolls out
    const again = (await (
      await t.req('PATCH', '/v1/projects/web/env', { body: { vars: { TEMP: null } } })
    ).json()) as EnvList;
    expect(again.data.map((v) => v.key)).toEqual(['GREETING', 'STRIPE_KEY']);
  });

  test('reveal shows the literal values to admin tokens only, and is recorded', async () => {
    const res = await t.req('GET', '/v1/projects/web/env?reveal=true');
    expect(res.status).toBe(200);
    expect(((await res.json()) as EnvList).data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'GREETING', value: 'hello $USER `x`' }),
        expect.objectContaining({ key: 'STRIPE_KEY', value: SECRET }),
      ]),
    );
    const deployer = t.token({ name: 'deployer', scope: 'deploy' });
    const denied = await t.req('GET', '/v1/projects/web/env?reveal=true', { token: deployer });
    expect(denied.status).toBe(403);
    expect((await errorOf(denied)).message).toBe('Token "deployer" has scope "deploy"; ?reveal=true needs "admin"');
    expect((await t.req('GET', '/v1/projects/web/env', { token: deployer })).status).toBe(200);
    const activity = (await (await t.req('GET', '/v1/activity?action=env')).json()) as {
      data: { action: string; changes: unknown }[];
    };
    expect(activity.data.map((a) => a.action)).toEqual(['env.reveal', 'env.update', 'env.update']);
    expect(JSON.stringify(activity.data)).not.toContain(SECRET);
    expect(activity.data[2]!.changes).toEqual({ set: ['STRIPE_KEY', 'GREETING', 'TEMP'], unset: [] });
  });

  test('DELETE removes one key', async () => {
    const res = await t.req('DELETE', '/v1/projects/web/env/GREETING');
    expect(res.status).toBe(200);
    expect(((await res.json()) as EnvList).data.map((v) => v.key)).toEqual(['STRIPE_KEY']);
  });

  test('bad names, PORT and oversized values are refused with 422', async () => {
    const res = await t.req('PATCH', '/v1/projects/web/env', {
      body: { vars: { '1BAD': 'x', PORT: '80', 'WITH-DASH': 'y', BIG: 'x'.repeat(40_000) } },
    });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).issues).toEqual([
      { path: '/vars/1BAD', message: 'Expected a name of letters, digits and _, not starting with a digit' },
      { path: '/vars/PORT', message: 'PORT is set by Slipway' },
      { path: '/vars/WITH-DASH', message: 'Expected a name of letters, digits and _, not starting with a digit' },
      { path: '/vars/BIG', message: 'Expected at most 32768 bytes' },
    ]);
  });

  test('no secret value is stored in plain text anywhere in the database files', () => {
    t.deps.db.pragma('wal_checkpoint(PASSIVE)');
    for (const file of readdirSync(t.dir).filter((f) => f.startsWith('slipway.db'))) {
      expect({ file, found: readFileSync(join(t.dir, file)).includes(SECRET) }).toEqual({ file, found: false });
    }
  });

  test('secret values are masked in deployment logs', async () => {
    const res = await t.app.handle(
      new Request('http://localhost/v1/projects/web/deployments', {
        method: 'POST',
        body: require('../helpers/archives.ts').tgzOf([{ name: 'index.html', body: 'x' }]),
        headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/gzip' },
      }),
    );
    const { id } = (await res.json()) as { id: string };
    t.deps.logs.append(id, `Step 3/5 : RUN echo ${SECRET}\n${SECRET.slice(0, 8)}`);
    // The build's output arrives in arbitrary chunks: a value split across two is masked too.
    const progress = new BuildProgress((line) => t.deps.logs.append(id, line));
    progress.handle({ stream: `token=${SECRET.slice(0, 7)}` });
    progress.handle({ stream: `${SECRET.slice(7)} done\n` });
    const log = await (await t.req('GET', `/v1/projects/web/deployments/${id}/logs`)).text();
    expect(log).toContain(`RUN echo ${MASK}`);
    expect(log).toContain(`token=${MASK} done`);
    expect(log).not.toContain(SECRET);
  });

  test('secrets in their common encodings, and a database password alone, are masked in deployment logs', async () => {
    const password = `Zq8/xN+2v"L0 kR7t`;
    const url = `postgres://app:${encodeURIComponent(password)}@slipway-web-db:5432/app`;
    t.deps.env.update(TEST_ACTOR, 'web', { DATABASE_URL: url }, 'database');
    const { id } = t.deps.deploymentRepo.list({
      project_id: t.deps.projects.get('web').id,
      before: Number.MAX_SAFE_INTEGER,
      status: null,
      limit: 1,
    })[0]!;
    const lines = [
      `base64 ${Buffer.from(SECRET).toString('base64')}`,
      `url-safe ${Buffer.from(`key:${SECRET}`).toString('base64url')}`,
      `query ?k=${encodeURIComponent(password)}`,
      `json ${JSON.stringify({ password })}`,
      `alone ${password}`,
    ];
    t.deps.logs.append(id, lines.join('\n'));
    const log = await (await t.req('GET', `/v1/projects/web/deployments/${id}/logs`)).text();
    for (const line of lines) expect(log).not.toContain(line);
    expect(log).toContain(`alone ${MASK}`);
    expect(log).toContain(`query ?k=${MASK}`);
    expect(log).toContain(`json {"password":"${MASK}"}`);
    expect(log).not.toContain(Buffer.from(SECRET).toString('base64'));
  });
});
