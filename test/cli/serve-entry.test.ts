import { describe, expect, test } from 'bun:test';
import { plainSettingFlags } from '../../src/cli/serve-entry.ts';

describe('slipway serve without commander', () => {
  test('reads known setting flags given as --flag value or --flag=value', () => {
    expect(plainSettingFlags(['--role', 'edge', '--data-dir=/var/lib/slipway', '--http-listen', '0.0.0.0:80'])).toEqual(
      {
        role: 'edge',
        'data-dir': '/var/lib/slipway',
        'http-listen': '0.0.0.0:80',
      },
    );
    expect(plainSettingFlags([])).toEqual({});
    expect(plainSettingFlags(['--base-domain='])).toEqual({ 'base-domain': '' });
  });

  test.each([
    ['help', ['--help']],
    ['a short option', ['-h']],
    ['an unknown option', ['--bogus', 'x']],
    ['a positional argument', ['edge']],
    ['a flag given twice', ['--role', 'edge', '--role', 'api']],
    ['a flag without its value', ['--data-dir']],
    ['a value that looks like an option', ['--data-dir', '--role']],
  ])('leaves %s to commander, which parses and reports it', (_name, args) => {
    expect(plainSettingFlags(args)).toBeNull();
  });
});
