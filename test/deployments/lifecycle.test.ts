import { afterAll, describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { DEPLOYMENT_STATUSES, type DeploymentRow, type DeploymentStatus } from '../../src/db/deployments.ts';
import { canTransition, TRANSITIONS } from '../../src/deployments/lifecycle.ts';
import { BuildStepFailed, CanceledByRequest, InstanceExited } from '../../src/deployments/failures.ts';
import { makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { queueDeployment } from '../helpers/deployments.ts';

const t = makeTestApp();
const { lifecycle, deploymentRepo: repo, logs } = t.deps;
t.deps.projects.create(TEST_ACTOR, { name: 'web' });
t.deps.projects.create(TEST_ACTOR, { name: 'api' });
afterAll(() => t.close());

const projectId = (name: string) => t.deps.projects.get(name).id;

/** A queued deployment of `project`, inserted through the lifecycle like every real one. */
const queue = (project = 'web'): DeploymentRow => queueDeployment(t.deps, project, { image_tag: 'slipway/web:1' });

/** Test setup only: puts a row straight into `status`, bypassing the table. */
function force(id: string, status: DeploymentStatus): void {
  t.deps.db.prepare('UPDATE deployments SET status = ? WHERE id = ?').run(status, id);
}

const statusOf = (id: string) => repo.findAny(id)!.status;
const linesOf = (id: string) => logs.read(id, 0).map((r) => r.line);

// Settled rows would otherwise make `live` lookups and `queued` supersedes see each other.
function fresh(project = 'web'): DeploymentRow {
  t.deps.db.prepare("UPDATE deployments SET status = 'replaced' WHERE status IN ('live', 'queued')").run();
  return queue(project);
}

describe('the transition table', () => {
  const allowed: [DeploymentStatus, DeploymentStatus][] = [
    ['queued', 'building'],
    ['queued', 'failed'],
    ['queued', 'canceled'],
    ['building', 'deploying'],
    ['building', 'failed'],
    ['building', 'canceled'],
    ['deploying', 'live'],
    ['deploying', 'failed'],
    ['deploying', 'canceled'],
    ['live', 'replaced'],
  ];

  test('is exactly the documented lifecycle', () => {
    const listed = Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => [from, to]));
    expect(listed.sort()).toEqual([...allowed].sort());
  });

  for (const [from, to] of allowed) {
    test(`allows ${from} → ${to}`, () => {
      const row = fresh();
      force(row.id, from);
      expect(lifecycle.transition(row.id, to)).toBe(true);
      expect(statusOf(row.id)).toBe(to);
    });
  }

  const refused = DEPLOYMENT_STATUSES.flatMap((from) =>
    DEPLOYMENT_STATUSES.filter((to) => !canTransition(from, to)).map((to) => [from, to] as const),
  );

  test('refuses every other pair, terminal states included', () => {
    expect(refused.length).toBe(7 * 7 - allowed.length);
    for (const end of ['failed', 'canceled', 'replaced'] as const) expect(TRANSITIONS[end]).toEqual([]);
  });

  for (const [from, to] of refused) {
    test(`refuses ${from} → ${to}, logs it and writes nothing`, () => {
      const row = fresh();
      force(row.id, from);
      const before = repo.findAny(row.id)!;
      const logged = t.logLines.length;
      expect(lifecycle.transition(row.id, to, { failure_reason: 'should not be written' })).toBe(false);
      expect(repo.findAny(row.id)).toEqual(before);
      const warning = t.logLines.slice(logged).map((l) => JSON.parse(l));
      expect(warning).toContainEqual(
        expect.objectContaining({ level: 'warn', msg: 'refused an illegal deployment transition', from, to }),
      );
    });
  }

  test('a legal move from a status the caller did not expect is declined quietly', () => {
    const row = fresh();
    lifecycle.claim(row.id);
    const logged = t.logLines.length;
    // The worker lost a race: somebody else claimed it first.
    expect(lifecycle.claim(row.id)).toBe(false);
    expect(statusOf(row.id)).toBe('building');
    expect(t.logLines.slice(logged).join('')).not.toContain('illegal');
  });
});

describe('ending a deployment', () => {
  test('records the failure as its reason and says so in its log', () => {
    const row = fresh();
    lifecycle.claim(row.id);
    const failure = new BuildStepFailed(
      { index: 2, total: 4 },
      "The command '/bin/sh -c make' returned a non-zero code: 2",
    );
    expect(lifecycle.end(row.id, failure)).toBe(true);
    expect(repo.findAny(row.id)).toMatchObject({ status: 'failed', failure_reason: failure.message });
    expect(repo.findAny(row.id)!.finished_at).not.toBeNull();
    expect(linesOf(row.id).at(-1)).toBe(`Deployment failed: ${failure.message}`);
  });

  test('a cancel ends canceled, a health failure failed', () => {
    const a = fresh();
    lifecycle.claim(a.id);
    lifecycle.end(a.id, new CanceledByRequest());
    expect(repo.findAny(a.id)).toMatchObject({ status: 'canceled', failure_reason: 'Canceled by request' });
    const b = fresh();
    lifecycle.claim(b.id);
    lifecycle.startDeploying(b.id);
    lifecycle.end(b.id, new InstanceExited(3));
    expect(repo.findAny(b.id)).toMatchObject({
      status: 'failed',
      failure_reason: 'The container exited with code 3 before it turned healthy',
    });
  });

  test('an ended deployment cannot be ended again, nor its log reopened', () => {
    const row = fresh();
    lifecycle.end(row.id, new CanceledByRequest());
    const lines = linesOf(row.id);
    expect(lifecycle.end(row.id, new InstanceExited(1))).toBe(false);
    expect(repo.findAny(row.id)).toMatchObject({ status: 'canceled', failure_reason: 'Canceled by request' });
    expect(linesOf(row.id)).toEqual(lines);
  });
});

describe('supersede', () => {
  test('a newer queued deployment cancels the older queued ones of its project only', () => {
    fresh();
    const other = queue('api');
    const first = queue();
    const second = queue();
    const third = queue();
    for (const [old, by] of [
      [first, second],
      [second, third],
    ] as const) {
      expect(repo.findAny(old.id)).toMatchObject({
        status: 'canceled',
        failure_reason: `Superseded by deployment #${by.number}`,
      });
      expect(linesOf(old.id).at(-1)).toBe(`Deployment canceled: Superseded by deployment #${by.number}`);
    }
    expect(statusOf(third.id)).toBe('queued');
    expect(linesOf(third.id)).toEqual([`Deployment #${third.number} queued (upload)`]);
    expect(statusOf(other.id)).toBe('queued');
  });

  test('does not touch a deployment that already runs', () => {
    const running = fresh();
    lifecycle.claim(running.id);
    const next = queue();
    expect(statusOf(running.id)).toBe('building');
    expect(statusOf(next.id)).toBe('queued');
  });
});

describe('going live', () => {
  function deploying(): DeploymentRow {
    const row = queue();
    lifecycle.claim(row.id);
    lifecycle.startDeploying(row.id);
    return repo.findAny(row.id)!;
  }

  test('makes the new one live and the previous one replaced, with its log line', () => {
    fresh();
    t.deps.db.prepare("UPDATE deployments SET status = 'replaced' WHERE status = 'queued'").run();
    const first = deploying();
    expect(lifecycle.goLive(first)).toBe(true);
    expect(lifecycle.liveOf(projectId('web'))?.id).toBe(first.id);
    const second = deploying();
    expect(lifecycle.goLive(second)).toBe(true);
    expect(statusOf(first.id)).toBe('replaced');
    expect(statusOf(second.id)).toBe('live');
    expect(lifecycle.liveOf(projectId('web'))?.id).toBe(second.id);
    expect(linesOf(second.id).at(-1)).toBe(`Deployment #${second.number} is live`);
    const live = t.deps.db
      .prepare("SELECT count(*) AS n FROM deployments WHERE project_id = ? AND status = 'live'")
      .get(projectId('web')) as { n: number };
    expect(live.n).toBe(1);
  });

  test('is one transaction: when the release bookkeeping throws, nothing changes', () => {
    const before = lifecycle.liveOf(projectId('web'))!;
    const next = deploying();
    expect(() =>
      lifecycle.goLive(next, () => {
        throw new Error('bookkeeping failed');
      }),
    ).toThrow('bookkeeping failed');
    expect(statusOf(next.id)).toBe('deploying');
    expect(statusOf(before.id)).toBe('live');
    expect(linesOf(next.id).at(-1)).not.toContain('is live');
  });

  test('refuses a deployment that is not deploying', () => {
    const row = fresh();
    expect(lifecycle.goLive(row)).toBe(false);
    expect(statusOf(row.id)).toBe('queued');
  });
});

describe('durability', () => {
  /** The statuses written while `fn` runs, each with the connection's synchronous level then (2 = FULL, 1 = NORMAL). */
  function syncLevels(fn: () => void): [DeploymentStatus, number][] {
    const seen: [DeploymentStatus, number][] = [];
    const original = repo.setDeploymentStatus;
    repo.setDeploymentStatus = (...args: Parameters<typeof original>) => {
      seen.push([args[2], t.deps.db.pragma('synchronous', { simple: true }) as number]);
      return original(...args);
    };
    try {
      fn();
    } finally {
      repo.setDeploymentStatus = original;
    }
    return seen;
  }

  test('the claim and the move to deploying commit without a sync of their own; going live and failing are synced', () => {
    fresh();
    const row = queue();
    const failing = queue('api');
    const seen = syncLevels(() => {
      lifecycle.claim(row.id);
      lifecycle.startDeploying(row.id, { image_id: 'sha256:abc' });
      lifecycle.goLive(repo.findAny(row.id)!);
      lifecycle.claim(failing.id);
      lifecycle.end(failing.id, new InstanceExited(1));
    });
    expect(seen).toEqual([
      ['building', 1],
      ['deploying', 1],
      ['live', 2],
      ['building', 1],
      ['failed', 2],
    ]);
    expect(t.deps.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(repo.findAny(row.id)).toMatchObject({ status: 'live', image_id: 'sha256:abc' });
  });
});

describe('after a crash', () => {
  test('running deployments end failed (interrupted); queued, live and ended ones stay as they were', () => {
    t.deps.db.prepare("UPDATE deployments SET status = 'replaced' WHERE status NOT IN ('failed', 'canceled')").run();
    const rows = Object.fromEntries(
      (['queued', 'building', 'deploying', 'live', 'failed'] as const).map((s) => {
        const row = queue(s === 'queued' ? 'api' : 'web');
        force(row.id, s);
        return [s, row.id];
      }),
    ) as Record<'queued' | 'building' | 'deploying' | 'live' | 'failed', string>;
    const ended = lifecycle.interruptAll().map((r) => r.id);
    expect(ended.sort()).toEqual([rows.building, rows.deploying].sort());
    for (const id of ended) {
      expect(repo.findAny(id)).toMatchObject({
        status: 'failed',
        failure_reason: 'interrupted: Slipway stopped while the deployment ran',
      });
      expect(linesOf(id).at(-1)).toBe('Deployment failed: interrupted: Slipway stopped while the deployment ran');
    }
    expect(statusOf(rows.queued)).toBe('queued');
    expect(statusOf(rows.live)).toBe('live');
    expect(statusOf(rows.failed)).toBe('failed');
  });
});

describe('the one owner of deployment status', () => {
  test('no module but the lifecycle (and the repository it calls) writes a status', () => {
    const src = resolve(import.meta.dir, '../../src');
    const offenders: string[] = [];
    for (const file of walk(src)) {
      const rel = relative(src, file);
      if (rel === 'deployments/lifecycle.ts' || rel === 'db/deployments.ts') continue;
      const text = readFileSync(file, 'utf8');
      if (/\.setDeploymentStatus\(|UPDATE\s+deployments\s+SET[^;]*\bstatus\b|\.insert\(\s*\{[^}]*status:/s.test(text)) {
        offenders.push(rel);
      }
      // Only the composition root (deps.ts, whose first stage makes the repositories) builds the repository.
      const root = rel === 'deps.ts' || rel === 'wiring/core.ts';
      if (/deployments\.insert\(|deploymentRepo\(/.test(text) && !root) offenders.push(rel);
    }
    expect(offenders).toEqual([]);
  });
});

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (path.endsWith('.ts')) yield path;
  }
}
