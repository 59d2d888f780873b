/** Writing to a Bun socket that takes only part of what it is given: the rest waits for drain, in order. */
import { expect, test } from 'bun:test';
import type { Socket } from 'bun';
import { Outbound } from '../../../src/edge/http1/outbound.ts';

/** A socket that takes at most `room` bytes per write, recording them as latin1. */
function socket(room: number) {
  const fake = {
    room,
    got: '',
    write(data: string | Uint8Array) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
      const n = Math.min(fake.room, bytes.length);
      fake.got += bytes.subarray(0, n).toString('latin1');
      return n;
    },
    end() {},
  };
  return fake;
}

test('an ASCII head the socket took only part of is sent whole, before what was written after it, on drain', () => {
  const fake = socket(4);
  const out = new Outbound(fake as unknown as Socket<unknown>);
  let drained = 0;
  out.onDrained = () => drained++;
  expect(out.writeAscii('GET / HTTP/1.1\r\n')).toBe(false);
  expect(out.write(Buffer.from('body', 'latin1'))).toBe(false);
  fake.room = 1000;
  out.drain();
  expect(fake.got).toBe('GET / HTTP/1.1\r\nbody');
  expect(drained).toBe(1);
  expect(out.writeAscii('next')).toBe(true);
  expect(fake.got).toEndWith('next');
});

test('keeps its own copy of what waits, so the caller may reuse its buffer at once', () => {
  const fake = socket(3);
  const out = new Outbound(fake as unknown as Socket<unknown>);
  const scratch = Buffer.from('HTTP/1.1 200 OK', 'latin1');
  expect(out.write(scratch)).toBe(false);
  scratch.fill(0x78);
  expect(out.write(scratch.subarray(0, 2))).toBe(false);
  scratch.fill(0x79);
  fake.room = 1000;
  out.drain();
  expect(fake.got).toBe('HTTP/1.1 200 OKxx');
  expect(out.copies).toBe(true);
});

test('queues bytes handed over as they are, sends them whole and in order on drain', () => {
  const fake = socket(5);
  const out = new Outbound(fake as unknown as Socket<unknown>);
  const given = Buffer.from('HTTP/1.1 200 OK\r\n\r\nbody', 'latin1');
  expect(out.write(given, true)).toBe(false);
  expect(out.write(Buffer.from('tail', 'latin1'), true)).toBe(false);
  // Handed over: what waits is the caller's buffer itself, not a copy of it.
  given.fill(0x7a, 10);
  fake.room = 1000;
  out.drain();
  expect(fake.got).toBe('HTTP/1.1 2zzzzzzzzzzzzztail');
});
