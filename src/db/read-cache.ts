import type { Db } from './open.ts';
import { writeCounter } from './write-count.ts';

/** Keys held at most, so that a flood of distinct keys cannot grow the cache without bound. */
const DEFAULT_MAX_KEYS = 1000;

/** How long a read of `PRAGMA data_version` stands for the database's state, in milliseconds. */
const DATA_VERSION_TTL_MS = 1;

/**
 * A stamp that moves whenever the database changes: the writes made through this connection
 * (write-count.ts, counted in JavaScript; SQLite's `total_changes()`, a native call per lookup, on
 * a connection that does not count them) plus the changes of `PRAGMA data_version`, which moves when
 * another connection (another process: `slipway tokens create --local`, a second agent role)
 * commits. Both only grow, so their sum moves whenever either does. `data_version` costs about 6 µs,
 * since it opens a read transaction (two `fcntl` locks under WAL), so it is read at most once a
 * millisecond: a commit by another process is seen by every lookup that starts a millisecond after
 * it returned. One counter serves every cache over the same database.
 */
export function changeCounter(db: Db): () => number {
  let counter = counters.get(db);
  if (!counter) {
    counter = newChangeCounter(db);
    counters.set(db, counter);
  }
  return counter;
}

const counters = new WeakMap<Db, () => number>();

function newChangeCounter(db: Db): () => number {
  const counted = writeCounter(db);
  const totalChanges = counted ? null : db.prepare('SELECT total_changes()').pluck();
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  let version: unknown;
  let otherCommits = 0;
  let readAt = Number.NEGATIVE_INFINITY;
  return () => {
    const now = performance.now();
    if (now - readAt >= DATA_VERSION_TTL_MS) {
      const read = dataVersion.get();
      if (read !== version) otherCommits++;
      version = read;
      readAt = now;
    }
    return (counted ? counted.writes : (totalChanges!.get() as number)) + otherCommits;
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
  private stamp = Number.NaN;

  constructor(
    private readonly changes: () => number,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {}

  /**
   * The value for `key`: cached while nothing was written, else `load(key)`ed (and cached when
   * found). `load` is given the key so that it need not be a closure made per lookup.
   */
  get(key: string, load: (key: string) => V | undefined): V | undefined {
    this.refresh();
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const value = load(key);
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
