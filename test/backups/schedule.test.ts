import { describe, expect, test } from 'bun:test';
import { keptByRetention, nextRun, parseRetention, parseSchedule } from '../../src/backups/schedule.ts';

const at = (iso: string) => new Date(iso);

describe('backup schedules', () => {
  test('daily, hourly and interval schedules give the next run after a time (UTC)', () => {
    const daily = parseSchedule('daily@03:00');
    expect(nextRun(daily, at('2026-05-04T02:59:59Z'))).toEqual(at('2026-05-04T03:00:00Z'));
    expect(nextRun(daily, at('2026-05-04T03:00:00Z'))).toEqual(at('2026-05-05T03:00:00Z'));
    expect(nextRun(parseSchedule('hourly@15'), at('2026-05-04T10:20:00Z'))).toEqual(at('2026-05-04T11:15:00Z'));
    expect(nextRun(parseSchedule('every 90s'), at('2026-05-04T10:00:00Z'))).toEqual(at('2026-05-04T10:01:30Z'));
    expect(nextRun(parseSchedule('off'), at('2026-05-04T10:00:00Z'))).toBeNull();
  });

  test('refuses schedules it cannot read', () => {
    for (const bad of ['daily', 'daily@3:00', 'hourly@60', 'every 0s', 'every 5d', '0 3 * * *'])
      expect(() => parseSchedule(bad)).toThrow('expected off, daily@HH:MM');
  });
});

describe('backup retention', () => {
  const backups = [
    '2026-05-04T03:00:00Z', // Monday
    '2026-05-04T15:00:00Z',
    '2026-05-05T03:00:00Z',
    '2026-05-06T03:00:00Z',
    '2026-05-10T03:00:00Z', // Sunday, same ISO week as the Monday
    '2026-05-11T03:00:00Z', // the next Monday
  ].map((created_at, i) => ({ id: `b${i}`, created_at }));

  test('keeps the newest of each of the last N days and weeks, and the last N', () => {
    expect([...keptByRetention(backups, parseRetention('daily=3'))].sort()).toEqual(['b3', 'b4', 'b5']);
    expect([...keptByRetention(backups, parseRetention('weekly=2'))].sort()).toEqual(['b4', 'b5']);
    expect([...keptByRetention(backups, parseRetention('last=2,weekly=3'))].sort()).toEqual(['b4', 'b5']);
    expect([...keptByRetention(backups, parseRetention('daily=7,weekly=4'))].sort()).toEqual([
      'b1',
      'b2',
      'b3',
      'b4',
      'b5',
    ]);
  });

  test('refuses a retention that keeps nothing or names an unknown period', () => {
    expect(() => parseRetention('daily=0')).toThrow('keeps nothing');
    expect(() => parseRetention('monthly=3')).toThrow('expected keys last, hourly, daily, weekly');
  });
});
