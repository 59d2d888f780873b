/**
 * The strict chunked reader, fed whole and split at every byte: where a body ends, what it decodes
 * to, and which framings it refuses.
 */
import { describe, expect, test } from 'bun:test';
import { ChunkedReader } from '../../../src/edge/http1/chunked.ts';

/** Feeds `text` in pieces of `step` bytes; returns bytes used, decoded text and whether it ended or failed. */
function read(text: string, step = text.length) {
  const reader = new ChunkedReader();
  const bytes = Buffer.from(text, 'latin1');
  let used = 0;
  let decoded = '';
  for (let at = 0; at < bytes.length && !reader.done; at += step) {
    const piece = bytes.subarray(at, Math.min(at + step, bytes.length));
    const n = reader.read(piece, 0, (d) => void (decoded += Buffer.from(d).toString('latin1')));
    if (n < 0) return { failed: true };
    used += n;
  }
  return { failed: false, done: reader.done, used, decoded };
}

const valid: [string, string, string][] = [
  ['one chunk', '5\r\nhello\r\n0\r\n\r\n', 'hello'],
  ['two chunks in upper- and lowercase hex', 'A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n', '0123456789abcdefghij'],
  ['leading zeros', '0005\r\nhello\r\n0000\r\n\r\n', 'hello'],
  ['an extension', '5;name=value\r\nhello\r\n0;last\r\n\r\n', 'hello'],
  ['trailers', '5\r\nhello\r\n0\r\nX-Sum: abc\r\nX-Other: 1\r\n\r\n', 'hello'],
  ['CRLF inside the data', '4\r\n\r\n\r\n\r\n0\r\n\r\n', '\r\n\r\n'],
];

const invalid: [string, string][] = [
  ['a size with a space', '5 \r\nhello\r\n0\r\n\r\n'],
  ['a size with a sign', '+5\r\nhello\r\n0\r\n\r\n'],
  ['a size with 0x', '0x5\r\nhello\r\n0\r\n\r\n'],
  ['an empty size', '\r\nhello\r\n0\r\n\r\n'],
  ['a size of 16 digits', `${'0'.repeat(15)}5\r\nhello\r\n0\r\n\r\n`],
  ['a bare LF after the size', '5\nhello\r\n0\r\n\r\n'],
  ['data longer than its size', '5\r\nhello!\r\n0\r\n\r\n'],
  ['data without its CRLF', '5\r\nhello0\r\n\r\n'],
  ['a control character in an extension', '5;a\u0001\r\nhello\r\n0\r\n\r\n'],
  ['a trailer without a colon', '0\r\nX-Sum\r\n\r\n'],
  ['a folded trailer', '0\r\nX-Sum: a\r\n b\r\n\r\n'],
  ['a bare LF ending the trailers', '0\r\n\n'],
];

describe('the chunked reader', () => {
  for (const [what, body, decoded] of valid) {
    test(`reads ${what}, whole and split at every byte`, () => {
      for (const step of [body.length, 1, 2, 3]) {
        expect(read(`${body}GET /next`, step)).toEqual({ failed: false, done: true, used: body.length, decoded });
      }
    });
  }

  for (const [what, body] of invalid) {
    test(`refuses ${what}`, () => {
      expect(read(body)).toEqual({ failed: true });
      expect(read(body, 1)).toEqual({ failed: true });
    });
  }

  test('refuses a trailer section over 16 KiB', () => {
    expect(read(`0\r\nX-Pad: ${'a'.repeat(16 * 1024)}\r\n\r\n`)).toEqual({ failed: true });
  });

  test('waits for the rest of an unfinished body', () => {
    expect(read('5\r\nhel')).toEqual({ failed: false, done: false, used: 6, decoded: 'hel' });
  });
});
