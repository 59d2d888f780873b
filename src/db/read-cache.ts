import type { Db } from './open.ts';

/** Keys held at most, so that a flood of distinct keys cannot grow the cache without bound. */
const DEFAULT_MAX_KEYS = 1000;

/** How long a read of `PRAGMA data_version` stands for the database's state, in milliseconds. */
const DATA_VERSION_TTL_MS = 1;

/**
 * A stamp that moves whenever the database changes: SQLite's `total_changes()` counts this
 * connection's writes, and `PRAGMA data_version` moves when another connection (another process:
 * `slipway tokens create --local`, a second agent role) commits. `total_changes()` is read on every
 * call (about 1 µs). `data_version` costs about 6 µs, since it opens a read transaction (two `fcntl`
 * locks under WAL), which was a quarter of an authenticated GET's time when each lookup read it, so
 * it is read at most once a millisecond: a commit by another process is seen by every lookup that
 * starts a millisecond after it returned. One counter serves every cache over the same database.
 */
export function changeCounter(db: Db): () => string {
  let counter = counters.get(db);
  if (!counter) {
    counter = newChangeCounter(db);
    counters.set(db, counter);
  }
  return counter;
}

const counters = new WeakMap<Db, () => string>();

function newChangeCounter(db: Db): () => string {
  const totalChanges = db.prepare('SELECT total_changes()').pluck();
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  let version = 0;
  let readAt = Number.NEGATIVE_INFINITY;
  return () => {
    const now = performance.now();
    if (now - readAt >= DATA_VERSION_TTL_MS) {
      version = dataVersion.get() as number;
      readAt = now;
    }
    return `${totalChanges.get() as number}:${version}`;
  };
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
