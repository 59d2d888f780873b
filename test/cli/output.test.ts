import { describe, expect, test } from 'bun:test';
import pc from 'picocolors';
import { ago, formatBytes, formatDuration, keyValues, table, visibleLength } from '../../src/cli/output.ts';
import { parseSince, formatLogLine } from '../../src/cli/logs.ts';
import { NOW } from './harness.ts';

const plain = pc.createColors(false);
const colour = pc.createColors(true);

describe('tables', () => {
  test('align columns under upper-case headers, two spaces apart, without trailing spaces', () => {
    expect(
      table(
        ['name', 'state', 'reason'],
        [
          ['web', 'live', '-'],
          ['api-server', 'failed', 'Health check failed'],
        ],
        plain,
      ),
    ).toBe(
      ['NAME        STATE   REASON', 'web         live    -', 'api-server  failed  Health check failed'].join('\n'),
    );
  });

  test('stay aligned when cells are coloured', () => {
    const out = table(
      ['name', 'state', 'n'],
      [
        ['web', colour.green('live'), '1'],
        ['api', colour.red('failed'), '2'],
      ],
      colour,
    );
    const lines = out.split('\n').map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
    expect(lines).toEqual(['NAME  STATE   N', 'web   live    1', 'api   failed  2']);
    expect(out).toContain('\x1b[32mlive\x1b[39m');
    expect(visibleLength(colour.green('live'))).toBe(4);
  });

  test('key/value blocks align the values', () => {
    expect(
      keyValues(
        [
          ['name', 'web'],
          ['health check', 'GET /'],
        ],
        plain,
      ),
    ).toBe('name:         web\nhealth check: GET /');
  });
});

describe('units', () => {
  test('sizes in bytes and binary units', () => {
    expect([0, 1023, 1024, 1536, 5 * 1024 ** 2, 3.5 * 1024 ** 3].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '1.5 KiB',
      '5.0 MiB',
      '3.5 GiB',
    ]);
  });

  test('durations in seconds, then minutes, then hours', () => {
    expect([400, 1234, 59_999, 125_000, 7_500_000].map(formatDuration)).toEqual([
      '0.4 s',
      '1.2 s',
      '60.0 s',
      '2m 5s',
      '2h 5m',
    ]);
  });

  test('ages relative to now', () => {
    const at = (s: number) => new Date(NOW - s * 1000).toISOString();
    expect([at(2), at(42), at(300), at(3 * 3600), at(2 * 86_400)].map((t) => ago(t, NOW))).toEqual([
      'just now',
      '42s ago',
      '5m ago',
      '3h ago',
      '2d ago',
    ]);
    expect(ago(null, NOW)).toBe('-');
  });
});

describe('runtime log lines', () => {
  test('show the time to the second, the instance and the line', () => {
    expect(
      formatLogLine(
        { time: '2026-01-02T03:04:05.123Z', instance: '1-ab12', stream: 'stdout', line: 'listening on 8080' },
        plain,
      ),
    ).toBe('2026-01-02 03:04:05Z 1-ab12 listening on 8080');
  });

  test('--since takes durations and ISO times', () => {
    expect(parseSince('90s', NOW)).toBe('2026-01-02T03:02:35.000Z');
    expect(parseSince('2h', NOW)).toBe('2026-01-02T01:04:05.000Z');
    expect(parseSince('2026-01-01T00:00:00Z', NOW)).toBe('2026-01-01T00:00:00.000Z');
    expect(() => parseSince('yesterday', NOW)).toThrow(
      '--since must be a duration such as 10m or 2h, or an ISO time, not "yesterday"',
    );
  });
});
