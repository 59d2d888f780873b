/**
 * The visitor's response head written from the upstream head's bytes (writeVisitorHead) must be
 * byte for byte what the string path (visitorResponseLines + visitorHead) makes, whatever the
 * upstream sent: odd spacing, HTTP/1.0, no reason, hop-by-hop and Connection-named fields.
 */
import { describe, expect, test } from 'bun:test';
import { visitorResponseLines } from '../../../src/edge/headers.ts';
import type { VisitorFraming } from '../../../src/edge/http1/response-body.ts';
import { parseResponseHead } from '../../../src/edge/http1/response-head.ts';
import { visitorHead, writeVisitorHead } from '../../../src/edge/http1/wire.ts';

const HSTS = ['Strict-Transport-Security', 'max-age=31536000'];

/** Both ways of writing the head of `text` (a whole response head ending in CRLF CRLF). */
function both(text: string, own: string[] = [], framing: VisitorFraming = 'length', close = false) {
  const src = Buffer.from(`${text}body`, 'latin1');
  const end = text.length;
  const head = parseResponseHead(src, end);
  if (!head) throw new Error(`not a valid head: ${JSON.stringify(text)}`);
  const lines = visitorResponseLines(head.rawHeaders, head.names, own, head.connection);
  const expected = visitorHead(head.status, head.reason, lines, framing, close);
  const out = Buffer.alloc(4096, 0x2a);
  const n = writeVisitorHead(out, out.length, src, head, own, framing, close);
  return { expected, written: out.toString('latin1', 0, n) };
}

const DATE = 'Date: Mon, 30 Nov 2026 05:30:00 GMT';

describe('the visitor response head written from the upstream bytes', () => {
  const cases: [string, string, string[]?, VisitorFraming?, boolean?][] = [
    [
      'an nginx answer',
      `HTTP/1.1 200 OK\r\nServer: nginx\r\n${DATE}\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\n`,
    ],
    ['no header lines at all', 'HTTP/1.1 204 No Content\r\n\r\n'],
    ['HTTP/1.0 with no reason', 'HTTP/1.0 404\r\nContent-Length: 4\r\n\r\n'],
    ['an empty reason on HTTP/1.1', 'HTTP/1.1 200 \r\nContent-Length: 4\r\n\r\n'],
    ['no space after the colon', `HTTP/1.1 200 OK\r\nContent-Type:text/plain\r\n${DATE}\r\n\r\n`],
    ['spaces and tabs around values', 'HTTP/1.1 200 OK\r\nX-A:   padded  \r\nX-B:\tt\t\r\nX-C: \r\nX-D:\r\n\r\n'],
    [
      'hop-by-hop fields in the middle',
      'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\nTE: x\r\n\r\n',
    ],
    [
      'fields the Connection header names',
      'HTTP/1.1 200 OK\r\nConnection: X-Secret, Content-Length\r\nX-Secret: 1\r\nContent-Length: 4\r\n\r\n',
    ],
    ['obs-text in a value', 'HTTP/1.1 200 OK\r\nX-Name: caf\xe9\r\n\r\n'],
    ['a date the edge adds', 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n', [], 'length', true],
    ['a chunked response re-framed', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', [], 'chunked'],
    [
      'the edge replacing a header of the upstream',
      `HTTP/1.1 200 OK\r\nstrict-transport-security: max-age=1\r\n${DATE}\r\n\r\n`,
      HSTS,
    ],
    ['an own Date the edge sends', 'HTTP/1.1 200 OK\r\nDate: x\r\n\r\n', ['date', 'y']],
  ];
  for (const [name, text, own, framing, close] of cases) {
    test(`is what the string path writes for ${name}`, () => {
      const { expected, written } = both(text, own, framing, close);
      expect(written).toBe(expected);
    });
  }

  test('says it might not fit rather than write past its room', () => {
    const text = `HTTP/1.1 200 OK\r\nX-Big: ${'b'.repeat(500)}\r\n\r\n`;
    const src = Buffer.from(text, 'latin1');
    const head = parseResponseHead(src, text.length)!;
    const out = Buffer.alloc(600, 0x2a);
    expect(writeVisitorHead(out, 300, src, head, [], 'length', false)).toBe(-1);
    expect(out.every((b) => b === 0x2a)).toBe(true);
  });
});
