/**
 * An unordered list of objects that each remember where they sit in it, for what the edge holds
 * per connection or per request (open connections, in-flight exchanges, deadlines): adding pushes,
 * removing moves the last item into the gap, both in constant time.
 *
 * Not a Set: JSC's Set (and Map) keeps the entries deleted from it reachable from its storage
 * until it is rehashed, so under churn (a connection or a request per entry) a minor collection
 * kept every recent connection's objects alive and the edge ran full collections under load; an
 * array whose removed slots are overwritten holds nothing it no longer lists.
 */

/** An object with a numeric field `K` that a SlotList keeps: its index there, or -1 (or absent) while in none. */
export type Slotted<K extends string> = { [P in K]?: number };

/** The list; `key` names the field its items keep their index in (one field per list an item may be in). */
export class SlotList<K extends string, T extends Slotted<K>> {
  private readonly items: T[] = [];

  constructor(private readonly key: K) {}

  get size(): number {
    return this.items.length;
  }

  /** Whether `item` is in this list. */
  has(item: T): boolean {
    const slot = (item as Slotted<K>)[this.key] ?? -1;
    return slot >= 0 && this.items[slot] === item;
  }

  /** Adds `item`, which must not be in this list already (see `has`). */
  add(item: T): void {
    (item as Slotted<K>)[this.key] = this.items.length;
    this.items.push(item);
  }

  /** Removes `item`; false when it was not in this list (removing twice is harmless). */
  remove(item: T): boolean {
    if (!this.has(item)) return false;
    const slot = (item as Slotted<K>)[this.key] as number;
    const last = this.items.pop() as T;
    if (last !== item) {
      this.items[slot] = last;
      (last as Slotted<K>)[this.key] = slot;
    }
    (item as Slotted<K>)[this.key] = -1;
    return true;
  }

  /** The item at `index` (0 ≤ index < size), in no particular order. */
  at(index: number): T {
    return this.items[index] as T;
  }

  /** A copy of the items, to iterate over while what is done to them removes them. */
  snapshot(): T[] {
    return this.items.slice();
  }

  /** Removes every item. */
  clear(): void {
    for (const item of this.items) (item as Slotted<K>)[this.key] = -1;
    this.items.length = 0;
  }
}
