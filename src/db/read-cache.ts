import type { Db } from './open.ts';

/** Keys held at most, so that a flood of distinct keys cannot grow the cache without bound. */
const DEFAULT_MAX_KEYS = 1000;

/**
 * A counter that moves whenever this connection writes: SQLite's `total_changes()`, a sub-microsecond
 * call. Every write Slipway makes to slipway.db goes through the one connection deps.ts opens, so an
 * unchanged counter means that no row has changed since it was last read.
 */
export function changeCounter(db: Db): () => number {
  const totalChanges = db.prepare('SELECT total_changes()').pluck();
  return () => totalChanges.get() as number;
}

/**
 * Values read from the database, kept only while the database is unchanged: the first lookup after
 * any write (to any table, by any code, committed or rolled back) starts from an empty cache. So a
 * revoked token or a changed project is seen on the very next request, without each write site
 * having to know about the cache. Only found values are kept; misses are read again each time.
 */
export class ReadCache<V> {
  private readonly entries = new Map<string, V>();
  private stamp = -1;

  constructor(
    private readonly changes: () => number,
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
