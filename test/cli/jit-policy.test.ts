/**
 * When `serve` executes itself again with its JIT policy (src/cli/jit-policy.ts), and with what.
 * test/smoke/binary.test.ts checks that the compiled binary's agent runs with it.
 */
import { describe, expect, test } from 'bun:test';
import { applyServeJitPolicy, type ProcessSelf, SERVE_JIT_ENV } from '../../src/cli/jit-policy.ts';

const [NAME, VALUE] = Object.entries(SERVE_JIT_ENV)[0]!;

/** A process as the compiled binary sees itself; `execve` records its call and then throws `thrown`. */
function self(over: Partial<ProcessSelf> = {}, thrown: Error | null = null) {
  const calls: [string, string[], Record<string, string | undefined>][] = [];
  const proc: ProcessSelf = {
    execPath: '/usr/local/bin/slipway',
    main: '/$bunfs/root/slipway',
    argv: ['bun', '/$bunfs/root/slipway', 'serve', '--data-dir', '/var/lib/slipway'],
    env: { PATH: '/usr/bin', SLIPWAY_LOG_LEVEL: 'debug' },
    execve: ((file: string, args: string[], env: Record<string, string | undefined>) => {
      calls.push([file, args, env]);
      if (thrown) throw thrown;
      return undefined as never;
    }) as ProcessSelf['execve'],
    ...over,
  };
  return { proc, calls };
}

describe("serve's JIT policy", () => {
  test('executes the binary again with the same arguments and environment, plus the policy', () => {
    const { proc, calls } = self();
    applyServeJitPolicy(proc);
    expect(calls).toEqual([
      [
        '/usr/local/bin/slipway',
        ['/usr/local/bin/slipway', 'serve', '--data-dir', '/var/lib/slipway'],
        { PATH: '/usr/bin', SLIPWAY_LOG_LEVEL: 'debug', [NAME]: VALUE },
      ],
    ]);
  });

  test('does not execute again once the variable is set, whatever its value (the user may set their own)', () => {
    for (const value of [VALUE, '1000']) {
      const { proc, calls } = self({ env: { [NAME]: value } });
      applyServeJitPolicy(proc);
      expect(calls).toEqual([]);
    }
  });

  test('leaves a run from source alone: only the compiled binary executes itself again', () => {
    const { proc, calls } = self({ main: '/work/slipway/src/main.ts' });
    applyServeJitPolicy(proc);
    expect(calls).toEqual([]);
  });

  test('goes on with the defaults when the execution fails (the binary was removed meanwhile)', () => {
    const { proc, calls } = self({}, Object.assign(new Error('ENOENT'), { code: 'ENOENT' }));
    expect(() => applyServeJitPolicy(proc)).not.toThrow();
    expect(calls).toHaveLength(1);
  });
});
