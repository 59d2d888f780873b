/**
 * The engine's byte helpers, which replace native Buffer calls by loops for short runs: they must
 * give exactly what Buffer.indexOf, copy and write give, on both sides of the size at which they
 * switch to the native call.
 */
import { expect, test } from 'bun:test';
import { copyInto, crlfCrlf, writeLatin1 } from '../../../src/edge/http1/bytes.ts';
import { HEAD_END } from '../../../src/edge/http1/request-head.ts';

/** A buffer of `n` bytes mostly CR and LF, so partial and whole CRLF CRLF runs come up often. */
function crlfy(n: number, seed: number): Buffer {
  const buf = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[i] = [0x0d, 0x0a, 0x0d, 0x0a, 0x41][(x >>> 16) % 5]!;
  }
  return buf;
}

test('finds the first CRLF CRLF where Buffer.indexOf does, in short and long buffers', () => {
  let found = 0;
  for (let n = 0; n < 700; n += 7) {
    for (let seed = 1; seed < 40; seed++) {
      const buf = crlfy(n, seed * 7919 + n);
      const expected = buf.indexOf(HEAD_END);
      if (expected !== -1) found++;
      expect({ n, seed, at: crlfCrlf(buf, HEAD_END) }).toEqual({ n, seed, at: expected });
      // Within a larger buffer, as the engine's reads arrive.
      const view = Buffer.concat([Buffer.from('xx'), buf]).subarray(2);
      expect(crlfCrlf(view, HEAD_END)).toBe(expected);
    }
  }
  expect(found).toBeGreaterThan(100);
  expect(crlfCrlf(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), HEAD_END)).toBe(23);
  expect(crlfCrlf(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r'), HEAD_END)).toBe(-1);
});

test('copies and writes the same bytes as Buffer.copy and Buffer.write, short or long', () => {
  for (const n of [0, 1, 17, 127, 128, 129, 300]) {
    const src = Buffer.from(Array.from({ length: n + 10 }, (_, i) => (i * 37 + 11) & 0xff));
    const ours = Buffer.alloc(n + 20, 0xee);
    const theirs = Buffer.alloc(n + 20, 0xee);
    expect(copyInto(ours, 3, src, 5, 5 + n)).toBe(src.copy(theirs, 3, 5, 5 + n));
    expect(ours).toEqual(theirs);
    const text = Array.from({ length: n }, (_, i) => String.fromCharCode((i * 53 + 7) & 0xff)).join('');
    expect(writeLatin1(ours, 2, text)).toBe(theirs.write(text, 2, 'latin1'));
    expect(ours).toEqual(theirs);
  }
});
