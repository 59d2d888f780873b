import { describe, expect, test } from 'bun:test';
import { diffEnv, rollbackEnvWarnings } from '../../src/env/diff.ts';

describe('what replacing an env changes, by key name', () => {
  const cases: [string, Record<string, string>, Record<string, string>, ReturnType<typeof diffEnv>][] = [
    ['nothing', { A: '1' }, { A: '1' }, { changed: [], restored: [], removed: [] }],
    ['a rotated value', { KEY: 'new' }, { KEY: 'old' }, { changed: ['KEY'], restored: [], removed: [] }],
    ['a key unset since', { A: '1' }, { A: '1', OLD: 'x' }, { changed: [], restored: ['OLD'], removed: [] }],
    ['a key set since', { A: '1', NEW: 'x' }, { A: '1' }, { changed: [], restored: [], removed: ['NEW'] }],
    ['an empty value is a value', { A: '' }, { A: 'x' }, { changed: ['A'], restored: [], removed: [] }],
    [
      'keys named like Object members',
      { constructor: 'a' },
      { toString: 'b' },
      { changed: [], restored: ['toString'], removed: ['constructor'] },
    ],
    [
      'all at once, sorted',
      { B: '2', A: '1', Z: 'z' },
      { B: '3', A: '0', Y: 'y' },
      { changed: ['A', 'B'], restored: ['Y'], removed: ['Z'] },
    ],
  ];
  for (const [name, current, next, expected] of cases) {
    test(name, () => expect(diffEnv(current, next)).toEqual(expected));
  }

  test('warnings name keys and never values', () => {
    const warnings = rollbackEnvWarnings(3, diffEnv({ KEY: 'sk_new', NEW: 'n1' }, { KEY: 'sk_old', OLD: 'o1' }));
    expect(warnings).toEqual([
      'Rolling back to #3 sets KEY back to the value it had then; if a secret was rotated since, set it again with `slipway env set`',
      'Rolling back to #3 brings back OLD, unset since',
      'Rolling back to #3 removes NEW, set since',
    ]);
    expect(warnings.join()).not.toMatch(/sk_new|sk_old|n1|o1/);
    expect(rollbackEnvWarnings(3, diffEnv({ A: '1' }, { A: '1' }))).toEqual([]);
  });
});
