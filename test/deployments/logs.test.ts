import { afterAll, describe, expect, test } from 'bun:test';
import { MAX_LOG_LINE_CHARS, MAX_OUTPUT_CHARS } from '../../src/deployments/logs.ts';
import { CanceledByRequest } from '../../src/deployments/failures.ts';
import { makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { queueDeployment } from '../helpers/deployments.ts';

const t = makeTestApp({ SLIPWAY_DEPLOYMENT_RETENTION: '10' });
t.deps.projects.create(TEST_ACTOR, { name: 'web' });
afterAll(() => t.close());

const queue = (): string => queueDeployment(t.deps, 'web').id;

const stored = (id: string) => t.deps.logs.read(id, 0, 1_000_000).map((r) => r.line);

describe('a deployment log', () => {
  test('stores a text of several lines as one row per line, numbered in order, after the lines before it', () => {
    const id = queue();
    t.deps.logs.append(id, 'first');
    t.deps.logs.append(id, 'Detected a static app:\n  FROM x\r\n  COPY . /www\n');
    t.deps.logs.append(id, 'last');
    const rows = t.deps.logs.read(id, 0, 100);
    expect(rows.map((r) => r.line).slice(-5)).toEqual([
      'first',
      'Detected a static app:',
      '  FROM x',
      '  COPY . /www',
      'last',
    ]);
    const seqs = rows.map((r) => r.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    expect(new Set(rows.slice(-4, -1).map((r) => r.at)).size).toBe(1);
  });

  test('cuts a long line at 16 KiB', () => {
    const id = queue();
    t.deps.logs.appendOutput(id, 'q'.repeat(100_000));
    expect(stored(id).at(-1)).toBe(`${'q'.repeat(MAX_LOG_LINE_CHARS)} [line cut at 16 KiB]`);
  });

  test("keeps 10 MiB of a project's output, then one line saying so, and Slipway's own lines after it", () => {
    const id = queue();
    const line = 'o'.repeat(16 * 1024);
    const lines = Math.ceil((MAX_OUTPUT_CHARS * 1.2) / line.length);
    for (let i = 0; i < lines; i++) t.deps.logs.appendOutput(id, line);
    t.deps.lifecycle.end(id, new CanceledByRequest());
    const kept = stored(id);
    const output = kept.filter((l) => l === line);
    expect(output.length * line.length).toBeLessThanOrEqual(MAX_OUTPUT_CHARS);
    expect(output.length * line.length).toBeGreaterThan(MAX_OUTPUT_CHARS - line.length * 2);
    expect(kept.filter((l) => l.startsWith('Log truncated'))).toEqual([
      'Log truncated: output past 10 MiB is not kept',
    ]);
    expect(kept.at(-1)).toBe('Deployment canceled: Canceled by request');
  });
});

describe('the deployment history', () => {
  test('keeps the newest SLIPWAY_DEPLOYMENT_RETENTION deployments of a project, their logs going with the rest', async () => {
    const ids = Array.from({ length: 14 }, () => queue());
    // Uploads prune; here the same call runs directly after the deployments were made.
    expect(t.deps.deploymentRepo.pruneHistory(t.deps.projects.get('web').id, 10)).toBeGreaterThan(0);
    const left = t.deps.deploymentRepo.list({
      project_id: t.deps.projects.get('web').id,
      before: Number.MAX_SAFE_INTEGER,
      status: null,
      limit: 100,
    });
    expect(left).toHaveLength(10);
    // The newest is still queued; the ones superseded before it were old enough to go.
    expect(left[0]!.id).toBe(ids.at(-1)!);
    const orphanLogs = t.deps.db
      .prepare('SELECT count(*) AS n FROM deployment_logs WHERE deployment_id NOT IN (SELECT id FROM deployments)')
      .get() as { n: number };
    expect(orphanLogs.n).toBe(0);
    expect(stored(ids[0]!)).toEqual([]);
  });

  test('never deletes the live deployment or unfinished ones, however old', () => {
    const p = t.deps.projects.get('web').id;
    t.deps.db.prepare("UPDATE deployments SET status = 'replaced' WHERE project_id = ?").run(p);
    const oldest = t.deps.deploymentRepo
      .list({ project_id: p, before: Number.MAX_SAFE_INTEGER, status: null, limit: 100 })
      .at(-1)!;
    t.deps.db.prepare("UPDATE deployments SET status = 'live' WHERE id = ?").run(oldest.id);
    for (let i = 0; i < 12; i++) queue();
    t.deps.deploymentRepo.pruneHistory(p, 10);
    expect(t.deps.deploymentRepo.findAny(oldest.id)?.status).toBe('live');
  });
});

describe('log durability', () => {
  test('appends a line with a relaxed commit and leaves the connection synced for status changes', () => {
    const id = queue();
    const db = t.deps.db;
    const levels: unknown[] = [];
    const pragma = db.pragma.bind(db);
    db.pragma = ((source: string, options?: { simple?: boolean }) => {
      if (source.startsWith('synchronous =')) levels.push(source);
      return pragma(source, options);
    }) as typeof db.pragma;
    try {
      t.deps.logs.append(id, 'one line');
      t.deps.logs.appendOutput(id, 'two\nlines');
    } finally {
      db.pragma = pragma;
    }
    expect(levels).toEqual([
      'synchronous = NORMAL',
      'synchronous = FULL',
      'synchronous = NORMAL',
      'synchronous = FULL',
    ]);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(stored(id).slice(-3)).toEqual(['one line', 'two', 'lines']);
  });
});
