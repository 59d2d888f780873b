/**
 * The housekeeping `serve` starts after the API listens (src/cli/serve-background.ts): nothing of
 * it runs before its delay, all of it after, the deploy worker only once build isolation was
 * checked, and stopping it early keeps it from starting. The parts are recorders: what is tested
 * is the order and timing of the calls, which does not depend on what the parts do.
 */
import { describe, expect, test } from 'bun:test';
import type { Deps } from '../../src/deps.ts';
import { startBackground } from '../../src/cli/serve-background.ts';

function recordingDeps(isolationCheck: () => Promise<object> = async () => ({})) {
  const calls: string[] = [];
  const record =
    (name: string, result?: unknown) =>
    (..._args: unknown[]) => {
      calls.push(name);
      return result;
    };
  const deps = {
    config: { reconcileIntervalSeconds: 3600, backupSchedule: { kind: 'off' } },
    log: { warn: record('log.warn'), info: record('log.info') },
    reconciler: { run: record('reconciler.run', Promise.resolve()) },
    follower: { start: record('follower.start', record('follower.stop')) },
    domainChecker: { start: record('domainChecker.start'), stop: record('domainChecker.stop', Promise.resolve()) },
    certificates: { pass: record('certificates.pass', Promise.resolve()) },
    buildIsolation: {
      prepare: record('buildIsolation.prepare', Promise.resolve()),
      check: async () => {
        calls.push('buildIsolation.check');
        return isolationCheck();
      },
    },
    worker: { start: record('worker.start'), stop: record('worker.stop', Promise.resolve()) },
    releases: { retirements: { settled: record('retirements.settled', Promise.resolve()) } },
    backups: { recover: record('backups.recover') },
    webhookWorker: { start: record('webhookWorker.start'), stop: record('webhookWorker.stop', Promise.resolve()) },
  };
  return { deps: deps as unknown as Deps, calls };
}

const until = async (done: () => boolean) => {
  for (let i = 0; i < 500 && !done(); i++) await Bun.sleep(2);
};

describe('the housekeeping of serve', () => {
  test('starts nothing before its delay, and everything after it, the worker after the isolation check', async () => {
    const { deps, calls } = recordingDeps();
    const stop = startBackground(deps, 300);
    await Bun.sleep(10);
    expect(calls).toEqual([]);
    await until(() => calls.includes('webhookWorker.start'));
    expect(calls.filter((c) => c !== 'buildIsolation.prepare')).toEqual([
      'reconciler.run',
      'follower.start',
      'domainChecker.start',
      'certificates.pass',
      'buildIsolation.check',
      'worker.start',
      'backups.recover',
      'webhookWorker.start',
    ]);
    await stop();
    // Old instances still draining are waited for once the worker has stopped.
    expect(calls.indexOf('retirements.settled')).toBeGreaterThan(calls.indexOf('worker.stop'));
    expect(calls).toContain('worker.stop');
    expect(calls).toContain('follower.stop');
    expect(calls).toContain('domainChecker.stop');
  });

  test('stopped before its delay, starts nothing at all', async () => {
    const { deps, calls } = recordingDeps();
    const stop = startBackground(deps, 20);
    await stop();
    await Bun.sleep(60);
    expect(calls).toEqual([]);
  });

  test('stopped while build isolation is checked, never starts the deploy worker', async () => {
    let release = () => {};
    const { deps, calls } = recordingDeps(() => new Promise((resolve) => (release = () => resolve({}))));
    const stop = startBackground(deps, 0);
    await until(() => calls.includes('buildIsolation.check'));
    const stopped = stop();
    release();
    await stopped;
    expect(calls).not.toContain('worker.start');
    expect(calls).not.toContain('webhookWorker.start');
    expect(calls).toContain('domainChecker.stop');
    expect(calls).toContain('follower.stop');
  });
});
