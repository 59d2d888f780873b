import { afterEach, describe, expect, spyOn, test } from 'bun:test';
import { Reclaimer, RECLAIM_EVERY_BYTES } from '../../src/archive/reclaim.ts';

describe('Reclaimer', () => {
  const gc = spyOn(Bun, 'gc');
  afterEach(() => gc.mockClear());

  test('runs one full collection per 16 MiB streamed, whatever the chunk sizes', () => {
    const reclaim = new Reclaimer();
    for (let sent = 0; sent < 5 * RECLAIM_EVERY_BYTES; sent += 64 * 1024) reclaim.add(64 * 1024);
    expect(gc).toHaveBeenCalledTimes(5);
    expect(gc.mock.calls.every(([full]) => full === true)).toBe(true);
  });

  test('does not collect before a full share has gone through', () => {
    const reclaim = new Reclaimer(1000);
    reclaim.add(600);
    reclaim.add(399);
    expect(gc).not.toHaveBeenCalled();
    reclaim.add(1);
    expect(gc).toHaveBeenCalledTimes(1);
    reclaim.add(999);
    expect(gc).toHaveBeenCalledTimes(1);
  });
});
