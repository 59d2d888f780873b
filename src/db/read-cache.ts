import type { Db } from './open.ts';

/** Keys held at most, so that a flood of distinct keys cannot grow the cache without bound. */
const DEFAULT_MAX_KEYS = 1000;

/**
 * A stamp that moves whenever the database changes: SQLite's `total_changes()` counts this
 * connection's writes, and `PRAGMA data_version` moves when another connection (another process:
 * `slipway tokens create --local`, a second agent role) commits. Both are sub-microsecond reads, so
 * an unchanged stamp means that no row has changed since it was last read.
 */
export function changeCounter(db: Db): () => string {
  const totalChanges = db.prepare('SELECT total_changes()').pluck();
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  return () => `${totalChanges.get() as number}:${dataVersion.get() as number}`;
}

/**
 * Values read from the database, kept only while the database is unchanged: the first lookup after
 * any write (to any table, by any code, committed or rolled back) starts from an empty cache. So a
 * revoked token or a changed project is seen on the very next request, without each write site
 * having to know about the cache. Only found values are kept; misses are read again each time.
 */
export class ReadCache<V> {
  private readonly entries = new Map<string, V>();
  private stamp = '';

  constructor(
    private readonly changes: () => string,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {}

  /** The value for `key`: cached while nothing was written, else `load()`ed (and cached when found). */
  get(key: string, load: () => V | undefined): V | undefined {
    this.refresh();
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const value = load();
    // A load that wrote something moved the counter: keep nothing read against the old state.
    if (value === undefined || this.changes() !== this.stamp) return value;
    if (this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, value);
    return value;
  }

  /** How many values are held now (after dropping them all if the database changed). */
  get size(): number {
    this.refresh();
    return this.entries.size;
  }

  private refresh(): void {
    const now = this.changes();
    if (now === this.stamp) return;
    this.entries.clear();
    this.stamp = now;
  }
}
