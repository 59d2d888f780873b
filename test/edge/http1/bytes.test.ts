/**
 * The engine's byte helpers, which replace native Buffer calls by loops for short runs: they must
 * give exactly what Buffer's copy and write give, on both sides of the size at which they switch
 * to the native call.
 */
import { expect, test } from 'bun:test';
import { copyInto, writeLatin1 } from '../../../src/edge/http1/bytes.ts';

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
