import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  removeDataDir,
  removeProjectObjects,
  retireAgent,
  startAgent,
  viaEdge,
  waitForStatus,
  type Agent,
} from '../helpers/agent.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { fixtureTgz } from '../helpers/fixtures.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';

const MAIN = resolve(import.meta.dir, '../../src/main.ts');
const suffix = crypto.randomUUID().slice(0, 6);
const P1 = `bk-a-${suffix}`;
const P2 = `bk-b-${suffix}`;

const hasDocker = await requireDocker();
const work = mkdtempSync(join(tmpdir(), 'slipway-backup-test-'));
const keyFile = join(work, 'master.key');
let s3: TestS3;
let agent: Agent;
let restored: Agent | null = null;
let localBackup = '';
let s3Backup = '';

/** Runs the CLI as a process; the agent's URL and token, the S3 settings and `env` are set. */
function slipway(args: string[], env: Record<string, string> = {}) {
  const r = Bun.spawnSync([process.execPath, MAIN, ...args], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: work,
      SLIPWAY_URL: agent.api,
      SLIPWAY_TOKEN: agent.token,
      SLIPWAY_IMAGE_POSTGRES: 'slipway-fixture/postgres:latest',
      ...s3.env,
      ...env,
    },
    cwd: work,
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

async function deploy(a: Agent, project: string, version: string): Promise<void> {
  const res = await a.call(
    'POST',
    `/v1/projects/${project}/deployments`,
    fixtureTgz('counter-app', { VERSION: version }),
    {
      'content-type': 'application/gzip',
    },
  );
  const id = ((await res.json()) as { id: string }).id;
  expect((await waitForStatus(a, project, id, ['live', 'failed'])).status).toBe('live');
}

const get = async (a: Agent, project: string, path: string) =>
  (await viaEdge(a.edgePort!, `${project}.localhost`, path)).text();

function psql(project: string, sql: string): string {
  const r = Bun.spawnSync([
    'docker',
    'exec',
    `slipway-${project}-db`,
    'psql',
    '-X',
    '-A',
    '-t',
    '-U',
    'app',
    '-d',
    'app',
    '-c',
    sql,
  ]);
  return r.stdout.toString().trim();
}

beforeAll(async () => {
  if (!hasDocker) return;
  s3 = await startS3();
  agent = await startAgent({ env: s3.env });
  copyFileSync(join(agent.dataDir, 'master.key'), keyFile);
  const p1 = await agent.call('POST', '/v1/projects', {
    name: P1,
    health_check_path: '/health',
    volumes: [{ name: 'data', mount_path: '/data' }],
  });
  expect(p1.status).toBe(201);
  expect((await agent.call('POST', '/v1/projects', { name: P2, health_check_path: '/health' })).status).toBe(201);
  await agent.call('PATCH', `/v1/projects/${P1}/env?restart=false`, { vars: { GREETING: 'hello from a' } });
  await agent.call('PATCH', `/v1/projects/${P2}/env?restart=false`, { vars: { GREETING: 'hello from b' } });
  await deploy(agent, P1, 'v1');
  await deploy(agent, P2, 'v1');
  for (let i = 0; i < 3; i++) await get(agent, P1, '/count');
  const db = await agent.call('POST', `/v1/projects/${P1}/database`);
  expect(db.status).toBe(201);
  const redeploy = ((await db.json()) as { deployment: { id: string } }).deployment.id;
  expect((await waitForStatus(agent, P1, redeploy, ['live', 'failed'])).status).toBe('live');
  psql(P1, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept across the restore')");
});

afterAll(async () => {
  if (!hasDocker) return;
  if (restored) await retireAgent(restored, []);
  await agent.stop().catch(() => {});
  await removeProjectObjects([P1, P2]);
  for (const p of [P1, P2])
    await dockerClient()
      .getNetwork(`slipway-${p}`)
      .remove()
      .catch(() => {});
  await s3.stop();
  removeDataDir(work);
});

describe.skipIf(!hasDocker)('backups of everything', () => {
  test('backup create prints where the backup is, and it verifies', async () => {
    const r = slipway(['backup', 'create']);
    expect(r.code).toBe(0);
    localBackup = r.stdout.trim();
    expect(localBackup).toStartWith(join(agent.dataDir, 'backups', 'slipway-'));
    expect(localBackup).toEndWith('.slwb');
    copyFileSync(localBackup, join(work, 'local.slwb'));
    const verified = slipway(['backup', 'verify', join(work, 'local.slwb'), '--master-key-file', keyFile]);
    expect(verified).toMatchObject({ code: 0 });
    expect(verified.stdout).toContain('is intact');
  });

  test('a damaged, truncated or foreign-key backup is refused and nothing is restored', () => {
    const good = readFileSync(join(work, 'local.slwb'));
    const flipped = Buffer.from(good);
    flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
    writeFileSync(join(work, 'flipped.slwb'), flipped);
    writeFileSync(join(work, 'truncated.slwb'), good.subarray(0, Math.floor((good.length * 2) / 3)));
    writeFileSync(join(work, 'other.key'), Buffer.alloc(32, 7).toString('base64'));
    const cases: [string, string, string][] = [
      ['flipped.slwb', keyFile, 'The backup is damaged: a chunk does not match its checksum'],
      ['truncated.slwb', keyFile, 'The backup is truncated: its last chunk is missing'],
      ['local.slwb', join(work, 'other.key'), 'The backup cannot be decrypted: it was sealed with another key'],
    ];
    for (const [file, key, message] of cases) {
      const target = join(work, `restore-${file}`);
      const r = slipway(['restore', file, '--data-dir', target, '--master-key-file', key]);
      expect({ file, code: r.code }).toEqual({ file, code: 1 });
      expect(r.stderr).toContain(message);
      expect(existsSync(target)).toBe(false);
    }
    expect(readdirSync(work).filter((f) => f.includes('.restoring-'))).toEqual([]);
  });

  test('the S3 destination takes a backup that verifies, and /metrics has the last success time', async () => {
    const res = await agent.call('POST', '/v1/backups', { destination: 's3' });
    expect(res.status).toBe(201);
    const made = (await res.json()) as {
      id: string;
      location: string;
      manifest: { parts: { path: string }[]; projects: { name: string; database: boolean; volumes: string[] }[] };
    };
    s3Backup = made.location;
    expect(s3Backup).toStartWith('s3://backups/slipway/slipway-');
    expect(made.manifest.parts.map((p) => p.path)).toContain(`databases/${P1}.dump`);
    expect(made.manifest.parts.map((p) => p.path)).toContain(`volumes/${P1}/data.tar`);
    expect(made.manifest.projects.find((p) => p.name === P1)).toMatchObject({ database: true, volumes: ['data'] });
    const verify = await agent.call('POST', `/v1/backups/${made.id}/verify`);
    expect(await verify.json()).toMatchObject({ id: made.id, ok: true, error: null });
    const list = (await (await agent.call('GET', '/v1/backups')).json()) as { data: { destination: string }[] };
    expect(list.data.map((b) => b.destination)).toEqual(['s3', 'local']);
    const metrics = await (await agent.call('GET', '/metrics')).text();
    expect(Number(/slipway_backup_last_success_timestamp_seconds (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
  });

  test('backup, wipe everything, restore: every project serves again with its env, rows and volume files', async () => {
    expect(await agent.stop()).toBe(0);
    await removeProjectObjects([P1, P2]);
    expect((await dockerClient().listVolumes({ filters: { label: [`slipway.project=${P1}`] } })).Volumes ?? []).toEqual(
      [],
    );
    removeDataDir(agent.dataDir);
    const target = join(work, 'restored');
    const r = slipway(['restore', s3Backup, '--data-dir', target, '--master-key-file', keyFile]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(r.stdout.trim()).toBe(target);
    restored = await startAgent({ dataDir: target, env: s3.env });
    const deadline = Date.now() + 90_000;
    while (
      (await get(restored, P1, '/greeting')) !== 'hello from a' ||
      (await get(restored, P2, '/greeting')) !== 'hello from b'
    ) {
      if (Date.now() > deadline) throw new Error(`the restored projects did not come back:\n${restored.output()}`);
      await Bun.sleep(250);
    }
    expect(await get(restored, P1, '/peek')).toBe('v1 3');
    expect(psql(P1, 'SELECT body FROM notes')).toBe('kept across the restore');
    const token = readFileSync(join(target, 'admin-token'), 'utf8').trim();
    expect(token).toBe(agent.token);
  });

  test('--only restores one project into another data directory', () => {
    const target = join(work, 'only');
    const r = slipway(['restore', s3Backup, '--data-dir', target, '--master-key-file', keyFile, '--only', P2]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const db = new Database(join(target, 'slipway.db'), { readonly: true });
    expect(db.prepare('SELECT name FROM projects').all()).toEqual([{ name: P2 }]);
    expect(db.prepare("SELECT trigger, status FROM deployments WHERE status = 'queued'").all()).toEqual([
      { trigger: 'retry', status: 'queued' },
    ]);
    db.close();
  });
});

describe.skipIf(!hasDocker)('scheduled backups', () => {
  test('run on time and are pruned by retention', async () => {
    const scheduled = await startAgent({
      env: { SLIPWAY_BACKUP_SCHEDULE: 'every 1s', SLIPWAY_BACKUP_RETENTION: 'last=2' },
    });
    try {
      const deadline = Date.now() + 30_000;
      let created = 0;
      while (created < 4) {
        if (Date.now() > deadline) throw new Error(`only ${created} scheduled backups ran:\n${scheduled.output()}`);
        await Bun.sleep(250);
        const activity = (await (await scheduled.call('GET', '/v1/activity?action=backup.create')).json()) as {
          data: unknown[];
        };
        created = activity.data.length;
      }
      const list = (await (await scheduled.call('GET', '/v1/backups')).json()) as {
        data: { trigger: string; status: string }[];
      };
      const complete = list.data.filter((b) => b.status === 'complete');
      expect(complete.length).toBeLessThanOrEqual(3);
      expect(complete.every((b) => b.trigger === 'schedule')).toBe(true);
      await Bun.sleep(100);
      const files = readdirSync(join(scheduled.dataDir, 'backups')).filter((f) => f.endsWith('.slwb'));
      expect(files.length).toBeLessThanOrEqual(3);
      const pruned = (await (await scheduled.call('GET', '/v1/activity?action=backup.prune')).json()) as {
        data: unknown[];
      };
      expect(pruned.data.length).toBeGreaterThan(0);
    } finally {
      await retireAgent(scheduled, []);
    }
  });
});
