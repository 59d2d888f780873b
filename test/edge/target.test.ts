/** A target's count of open exchanges, which draining waits on: any order of ends, ends said twice, cuts. */
import { expect, test } from 'bun:test';
import { type Exchange, Target } from '../../src/edge/target.ts';

function exchange(log: string[], name: string): Exchange {
  return { cut: () => log.push(name) };
}

test('counts exchanges that end in any order, each once however often its end is said', async () => {
  let idle = 0;
  const target = new Target('a:1', () => idle++);
  const log: string[] = [];
  const [a, b, c] = ['a', 'b', 'c'].map((n) => exchange(log, n)) as [Exchange, Exchange, Exchange];
  for (const e of [a, b, c]) target.enter(e);
  expect(target.inflight).toBe(3);
  target.leave(a);
  target.leave(a);
  expect(target.inflight).toBe(2);
  const quiet = target.whenIdle();
  target.leave(c);
  expect(target.inflight).toBe(1);
  expect(idle).toBe(0);
  target.leave(b);
  target.leave(c);
  expect(target.inflight).toBe(0);
  expect(idle).toBe(1);
  await quiet;
});

test('an exchange that moved to another target is not ended on the first by a late end', () => {
  const first = new Target('a:1');
  const second = new Target('b:1');
  const log: string[] = [];
  const [moved, stays] = [exchange(log, 'moved'), exchange(log, 'stays')];
  first.enter(moved);
  first.enter(stays);
  first.leave(moved);
  second.enter(moved);
  first.leave(moved);
  expect(first.inflight).toBe(1);
  expect(second.inflight).toBe(1);
  expect(first.cutAll()).toBe(1);
  expect(log).toEqual(['stays']);
});

test('cuts every open exchange once, even as each cut ends its exchange', () => {
  const target = new Target('a:1');
  const log: string[] = [];
  for (const name of ['a', 'b', 'c', 'd']) {
    const e: Exchange = {
      cut: () => {
        log.push(name);
        target.leave(e);
      },
    };
    target.enter(e);
  }
  expect(target.cutAll()).toBe(4);
  expect(log.sort()).toEqual(['a', 'b', 'c', 'd']);
  expect(target.inflight).toBe(0);
});
