/**
 * The native handshake budget alone: at most `limit` slots, waiters served first come, first
 * served as slots free, sent to the fair path (null) once they waited too long, and slots that
 * free themselves after their hold time.
 */
import { describe, expect, test } from 'bun:test';
import { HandshakeBudget, type HandshakeSlot } from '../../../src/edge/tls/handshake-budget.ts';

/** A waiter that records what it was granted and when. */
function waiter(name: string, log: string[], slots: Map<string, HandshakeSlot>) {
  return {
    destroyed: false,
    granted(slot: HandshakeSlot | null) {
      log.push(`${name}:${slot ? 'native' : 'fair'}`);
      if (slot) slots.set(name, slot);
    },
  };
}

describe('the handshake budget', () => {
  test('grants up to its limit at once, then serves waiters in arrival order as slots free', () => {
    const log: string[] = [];
    const slots = new Map<string, HandshakeSlot>();
    const budget = new HandshakeBudget(2, 1000, 5000);
    for (const name of ['a', 'b', 'c', 'd']) budget.request(waiter(name, log, slots));
    expect(log).toEqual(['a:native', 'b:native']);
    expect(budget.active).toBe(2);
    slots.get('b')!.release();
    slots.get('b')!.release();
    expect(log).toEqual(['a:native', 'b:native', 'c:native']);
    slots.get('a')!.release();
    expect(log).toEqual(['a:native', 'b:native', 'c:native', 'd:native']);
    for (const slot of slots.values()) slot.release();
    expect(budget.active).toBe(0);
  });

  test('a waiter that closed is skipped, and a later one gets the slot', () => {
    const log: string[] = [];
    const slots = new Map<string, HandshakeSlot>();
    const budget = new HandshakeBudget(1, 1000, 5000);
    budget.request(waiter('a', log, slots));
    const gone = waiter('gone', log, slots);
    budget.request(gone);
    budget.request(waiter('c', log, slots));
    gone.destroyed = true;
    slots.get('a')!.release();
    expect(log).toEqual(['a:native', 'c:native']);
    slots.get('c')!.release();
  });

  test('waiters go to the fair path after the wait, in order; with limit 0 at once', async () => {
    const log: string[] = [];
    const slots = new Map<string, HandshakeSlot>();
    const budget = new HandshakeBudget(1, 20, 5000);
    budget.request(waiter('a', log, slots));
    budget.request(waiter('b', log, slots));
    budget.request(waiter('c', log, slots));
    expect(log).toEqual(['a:native']);
    await Bun.sleep(60);
    expect(log).toEqual(['a:native', 'b:fair', 'c:fair']);
    slots.get('a')!.release();
    new HandshakeBudget(0).request(waiter('z', log, slots));
    expect(log.at(-1)).toBe('z:fair');
  });

  test('a slot nobody releases frees itself after the hold time and goes to the next waiter', async () => {
    const log: string[] = [];
    const slots = new Map<string, HandshakeSlot>();
    const budget = new HandshakeBudget(1, 500, 30);
    budget.request(waiter('silent', log, slots));
    budget.request(waiter('next', log, slots));
    await Bun.sleep(80);
    expect(log).toEqual(['silent:native', 'next:native']);
    slots.get('next')!.release();
    expect(budget.active).toBe(0);
  });
});
