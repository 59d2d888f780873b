/**
 * The SlotList the edge keeps connections, exchanges and deadlines in: adds and removes in any
 * order keep every item findable, removing twice or removing what another list holds does nothing,
 * iterating over a snapshot survives removals, and what was removed is no longer held.
 */
import { expect, test } from 'bun:test';
import { SlotList } from '../../src/edge/slot-list.ts';

interface Item {
  name: string;
  aSlot?: number;
  bSlot?: number;
}

const items = (n: number): Item[] => Array.from({ length: n }, (_, i) => ({ name: `i${i}` }));

test('items removed in any order leave exactly the others, each still found where it sits', () => {
  const list = new SlotList<'aSlot', Item>('aSlot');
  const all = items(6);
  for (const item of all) list.add(item);
  for (const i of [0, 5, 2]) expect(list.remove(all[i] as Item)).toBe(true);
  const left = [1, 3, 4].map((i) => all[i] as Item);
  expect(list.size).toBe(3);
  expect(new Set(list.snapshot())).toEqual(new Set(left));
  for (const item of left) expect(list.has(item)).toBe(true);
  for (let i = 0; i < list.size; i++) expect(list.at(i).aSlot).toBe(i);
  for (const i of [0, 2, 5]) expect(list.has(all[i] as Item)).toBe(false);
});

test('removing an item twice, or one that was never added, changes nothing', () => {
  const list = new SlotList<'aSlot', Item>('aSlot');
  const [a, b, stranger] = items(3) as [Item, Item, Item];
  list.add(a);
  list.add(b);
  expect(list.remove(a)).toBe(true);
  expect(list.remove(a)).toBe(false);
  expect(list.remove(stranger)).toBe(false);
  expect(list.snapshot()).toEqual([b]);
});

test('an item in two lists under different keys is removed from one without the other', () => {
  const first = new SlotList<'aSlot', Item>('aSlot');
  const second = new SlotList<'bSlot', Item>('bSlot');
  const [x, y] = items(2) as [Item, Item];
  first.add(y);
  first.add(x);
  second.add(x);
  first.remove(x);
  expect(second.has(x)).toBe(true);
  expect(first.snapshot()).toEqual([y]);
  // A late removal from a list the item sat in under the same key, now at an index another holds.
  const third = new SlotList<'aSlot', Item>('aSlot');
  third.add(x);
  expect(first.remove(x)).toBe(false);
  expect(first.snapshot()).toEqual([y]);
  expect(third.has(x)).toBe(true);
});

test('every item is visited once when each visit removes items, through a snapshot', () => {
  const list = new SlotList<'aSlot', Item>('aSlot');
  const all = items(10);
  for (const item of all) list.add(item);
  const seen: string[] = [];
  for (const item of list.snapshot()) {
    seen.push(item.name);
    list.remove(item);
    // A visit that also closes another item (as destroying one connection might).
    if (item.name === 'i3') list.remove(all[8] as Item);
  }
  expect(seen.sort()).toEqual(all.map((i) => i.name).sort());
  expect(list.size).toBe(0);
});

test('clear empties the list and marks every item as in none', () => {
  const list = new SlotList<'aSlot', Item>('aSlot');
  const all = items(3);
  for (const item of all) list.add(item);
  list.clear();
  expect(list.size).toBe(0);
  for (const item of all) {
    expect(item.aSlot).toBe(-1);
    expect(list.has(item)).toBe(false);
  }
});

// JSC's Set lets go of deleted entries at a full collection too; what it keeps through minor
// collections is measured under load (BUN_JSC_logGC), not here. This pins the list's own part:
// no tombstones, removed slots overwritten.
test('churned items are not kept alive by the list once removed', async () => {
  const list = new SlotList<'aSlot', Item>('aSlot');
  const refs: WeakRef<Item>[] = [];
  const keep: Item = { name: 'kept' };
  list.add(keep);
  (() => {
    for (let i = 0; i < 2000; i++) {
      const item: Item = { name: `c${i}` };
      list.add(item);
      if (i % 100 === 0) refs.push(new WeakRef(item));
      list.remove(item);
    }
  })();
  Bun.gc(true);
  await Bun.sleep(0);
  Bun.gc(true);
  expect(refs.filter((r) => r.deref() !== undefined).length).toBe(0);
  expect(list.snapshot()).toEqual([keep]);
});
