/**
 * When scheduled backups run (SLIPWAY_BACKUP_SCHEDULE) and which ones are kept
 * (SLIPWAY_BACKUP_RETENTION). Times are UTC.
 */

/** A parsed schedule: a daily or hourly time, or a fixed interval. */
export type Schedule =
  | { kind: 'off' }
  | { kind: 'daily'; hour: number; minute: number }
  | { kind: 'hourly'; minute: number }
  | { kind: 'every'; ms: number };

/** Parses `off`, `daily@HH:MM`, `hourly@MM` or `every <n>s|m|h` (n ≥ 1). */
export function parseSchedule(raw: string): Schedule {
  if (raw === 'off') return { kind: 'off' };
  let m = /^daily@([01]\d|2[0-3]):([0-5]\d)$/.exec(raw);
  if (m) return { kind: 'daily', hour: Number(m[1]), minute: Number(m[2]) };
  m = /^hourly@([0-5]\d)$/.exec(raw);
  if (m) return { kind: 'hourly', minute: Number(m[1]) };
  m = /^every (\d{1,6})(s|m|h)$/.exec(raw);
  if (m && Number(m[1]) > 0) return { kind: 'every', ms: Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2]!]! };
  throw new Error('expected off, daily@HH:MM, hourly@MM or every <n>s|m|h (UTC), e.g. daily@03:00');
}

/** The first run strictly after `after` (for `every`, one interval after it). */
export function nextRun(s: Schedule, after: Date): Date | null {
  if (s.kind === 'off') return null;
  if (s.kind === 'every') return new Date(after.getTime() + s.ms);
  const next = new Date(after.getTime());
  next.setUTCSeconds(0, 0);
  if (s.kind === 'hourly') {
    next.setUTCMinutes(s.minute);
    if (next <= after) next.setUTCHours(next.getUTCHours() + 1);
    return next;
  }
  next.setUTCHours(s.hour, s.minute);
  if (next <= after) next.setUTCDate(next.getUTCDate() + 1);
  return next;
}

/** How many backups to keep: the `last` newest, and the newest of each of the last N hours, days, weeks. */
export interface Retention {
  last: number;
  hourly: number;
  daily: number;
  weekly: number;
}

/** Parses `daily=7,weekly=4` (keys last, hourly, daily, weekly; missing ones are 0; at least one above 0). */
export function parseRetention(raw: string): Retention {
  const out: Retention = { last: 0, hourly: 0, daily: 0, weekly: 0 };
  for (const part of raw.split(',')) {
    const m = /^(last|hourly|daily|weekly)=(\d{1,4})$/.exec(part.trim());
    if (!m) throw new Error('expected keys last, hourly, daily, weekly with counts, e.g. daily=7,weekly=4');
    out[m[1] as keyof Retention] = Number(m[2]);
  }
  if (Object.values(out).every((n) => n === 0)) throw new Error('keeps nothing: give at least one count above 0');
  return out;
}

const PERIODS: Record<Exclude<keyof Retention, 'last'>, (d: Date) => string> = {
  hourly: (d) => d.toISOString().slice(0, 13),
  daily: (d) => d.toISOString().slice(0, 10),
  // ISO-8601 weeks start on Monday: key each backup by its week's Monday.
  weekly: (d) => {
    const monday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
    monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
    return monday.toISOString().slice(0, 10);
  },
};

/**
 * The ids of the backups retention keeps, from `backups` (any order): the `last` newest, plus for
 * each period kind the newest backup of each of the most recent N periods that have one (as restic's
 * --keep-daily does). Everything else may be pruned.
 */
export function keptByRetention(backups: { id: string; created_at: string }[], r: Retention): Set<string> {
  const newest = [...backups].sort((a, b) => b.created_at.localeCompare(a.created_at));
  const kept = new Set(newest.slice(0, r.last).map((b) => b.id));
  for (const [kind, keyOf] of Object.entries(PERIODS) as [keyof typeof PERIODS, (d: Date) => string][]) {
    const seen = new Set<string>();
    for (const b of newest) {
      if (seen.size >= r[kind]) break;
      const key = keyOf(new Date(b.created_at));
      if (seen.has(key)) continue;
      seen.add(key);
      kept.add(b.id);
    }
  }
  return kept;
}
