/**
 * The native engine's swept deadlines: a removal only marks the deadline, so these pin down that
 * a removed one never fires, that one added again fires at its new time, and that the list lets
 * go of what was removed.
 */
import { expect, test } from 'bun:test';
import { type Deadline, Deadlines } from '../../../src/edge/http1/deadlines.ts';

function deadline(): Deadline & { fired: number } {
  return {
    due: 0,
    fired: 0,
    expire() {
      this.fired++;
    },
  };
}

const settle = (ms: number) => Bun.sleep(ms);

test('a removed deadline does not fire, and fires once when added again', async () => {
  const deadlines = new Deadlines(10);
  const d = deadline();
  deadlines.add(d, 20);
  deadlines.remove(d);
  await settle(60);
  expect(d.fired).toBe(0);
  expect(d.deadlineSlot).toBe(-1);
  deadlines.add(d, 20);
  deadlines.remove(d);
  deadlines.add(d, 20);
  await settle(60);
  expect(d.fired).toBe(1);
  deadlines.clear();
});

test('a deadline re-armed before it is due moves to its new time', async () => {
  const deadlines = new Deadlines(10);
  const d = deadline();
  deadlines.add(d, 30);
  await settle(15);
  deadlines.add(d, 200);
  await settle(60);
  expect(d.fired).toBe(0);
  deadlines.clear();
  expect(d.deadlineSlot).toBe(-1);
});
