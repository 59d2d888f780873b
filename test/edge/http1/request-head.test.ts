/**
 * The native engine's request head parser on its own: hostile heads as a table with the status
 * each gets, and what a head that passes is parsed into.
 */
import { describe, expect, test } from 'bun:test';
import { headEnd, MAX_HEAD_BYTES, parseRequestHead, type RequestHead } from '../../../src/edge/http1/request-head.ts';

/** Parses `text` as a whole head: the head, or the status it is refused with. */
function parse(text: string): RequestHead | number {
  const buf = Buffer.from(text, 'latin1');
  const end = headEnd(buf);
  if (end === -1) return -1;
  if (typeof end !== 'number') return end.refused;
  const head = parseRequestHead(buf, end);
  return 'refused' in head ? head.refused : head;
}

const H = 'Host: web.localhost\r\n';

const refused: [string, string, number][] = [
  [
    'Content-Length with Transfer-Encoding',
    `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`,
    400,
  ],
  [
    'Transfer-Encoding before Content-Length',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n`,
    400,
  ],
  ['two equal Content-Lengths', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\n`, 400],
  ['a Content-Length list', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\n`, 400],
  ['a signed Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\n`, 400],
  ['a hex Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\n`, 400],
  ['a huge Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 1${'0'.repeat(20)}\r\n\r\n`, 400],
  ['chunked twice', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n`, 400],
  [
    'chunked, then another coding',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n`,
    400,
  ],
  ['a coding without chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n`, 400],
  ['a misspelt chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked_\r\n\r\n`, 400],
  ['a folded line (obs-fold)', `GET / HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`, 400],
  ['a folded line with a tab', `GET / HTTP/1.1\r\n${H}X-A: a\r\n\tb\r\n\r\n`, 400],
  ['a space before the colon', 'GET / HTTP/1.1\r\nHost : web.localhost\r\n\r\n', 400],
  ['a tab before the colon', 'GET / HTTP/1.1\r\nHost\t: web.localhost\r\n\r\n', 400],
  ['a header line without a colon', `GET / HTTP/1.1\r\n${H}X-A\r\n\r\n`, 400],
  ['an empty header name', `GET / HTTP/1.1\r\n${H}: x\r\n\r\n`, 400],
  ['a name with a slash', `GET / HTTP/1.1\r\n${H}X/A: x\r\n\r\n`, 400],
  ['a NUL in a value', `GET / HTTP/1.1\r\n${H}X-A: a\u0000b\r\n\r\n`, 400],
  ['a DEL in a value', `GET / HTTP/1.1\r\n${H}X-A: a\u007fb\r\n\r\n`, 400],
  ['a bare CR in a value', `GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`, 400],
  ['a bare LF between lines', `GET / HTTP/1.1\r\n${H}X-A: a\nX-B: b\r\n\r\n`, 400],
  ['a bare LF in the request line', 'GET / HTTP/1.1\nHost: web.localhost\n\n', 400],
  ['a lowercase method', `get / HTTP/1.1\r\n${H}\r\n`, 400],
  ['a method with a digit', `G3T / HTTP/1.1\r\n${H}\r\n`, 400],
  ['two spaces after the method', `GET  / HTTP/1.1\r\n${H}\r\n`, 400],
  ['a space in the target', `GET /a b HTTP/1.1\r\n${H}\r\n`, 400],
  ['a tab in the target', `GET /a\tb HTTP/1.1\r\n${H}\r\n`, 400],
  ['raw UTF-8 in the target', `GET /\u00e4 HTTP/1.1\r\n${H}\r\n`, 400],
  ['HTTP/2.0', `GET / HTTP/2.0\r\n${H}\r\n`, 400],
  ['HTTP/0.9 style', 'GET /\r\n\r\n', 400],
  ['a lowercase version', `GET / http/1.1\r\n${H}\r\n`, 400],
  ['HTTP/1.10', `GET / HTTP/1.10\r\n${H}\r\n`, 400],
  ['a leading empty line', `\r\nGET / HTTP/1.1\r\n${H}\r\n`, 400],
  ['a head over the size limit', `GET / HTTP/1.1\r\n${H}X-Pad: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`, 431],
  ['an unfinished head over the size limit', `GET / HTTP/1.1\r\n${H}X-Pad: ${'a'.repeat(MAX_HEAD_BYTES)}`, 431],
];

describe('the request head parser', () => {
  for (const [what, text, status] of refused) {
    test(`refuses ${what} with ${status}`, () => {
      expect(parse(text)).toBe(status);
    });
  }

  test('waits for the rest of an unfinished head', () => {
    expect(parse(`GET / HTTP/1.1\r\n${H}`)).toBe(-1);
  });

  test('keeps the target, names and values as sent, with their order and repeats', () => {
    const head = parse(`GET /a/../b?%2e%2e#x HTTP/1.1\r\n${H}X-A:  one \r\nx-a: two\r\nSet-Thing: \u00e9\r\n\r\n`);
    expect(head).toMatchObject({
      method: 'GET',
      url: '/a/../b?%2e%2e#x',
      minor: 1,
      rawHeaders: ['Host', 'web.localhost', 'X-A', 'one', 'x-a', 'two', 'Set-Thing', '\u00e9'],
      framing: { kind: 'none' },
      close: false,
    });
  });

  test('marks a head plain when none of its fields is dropped or rewritten upstream, keeping its lines as sent', () => {
    const head = parse(`GET / HTTP/1.1\r\n${H}Accept:  */* \r\n\r\n`) as RequestHead;
    expect(head).toMatchObject({ plain: true, host: 'web.localhost', names: ['host', 'accept'] });
    expect(head.source.toString('latin1', head.fieldsAt, head.fieldsEnd)).toBe(`${H}Accept:  */* \r\n`);
    expect(head.source.toString('latin1', 0, head.fieldsEnd)).toBe(`GET / HTTP/1.1\r\n${H}Accept:  */* \r\n`);
    const bare = parse('GET / HTTP/1.0\r\n\r\n') as RequestHead;
    expect(bare.source.toString('latin1', bare.fieldsAt, bare.fieldsEnd)).toBe('');
    expect(
      parse(`GET / HTTP/1.1\r\nHOST: a.localhost\r\nX-Custom-Thing: 1\r\nCONTENT-length: 0\r\n\r\n`),
    ).toMatchObject({
      names: ['host', 'x-custom-thing', 'content-length'],
      host: 'a.localhost',
      framing: { kind: 'length', length: 0 },
    });
    for (const field of ['Connection: close', 'X-Forwarded-For: 1.2.3.4', 'Expect: 100-continue', 'TE: trailers']) {
      expect(parse(`POST / HTTP/1.1\r\n${H}${field}\r\nContent-Length: 0\r\n\r\n`)).toMatchObject({ plain: false });
    }
  });

  test('reads the body framing, keep-alive, WebSocket and Expect from the headers', () => {
    expect(parse(`POST / HTTP/1.1\r\n${H}Content-Length: 12\r\nConnection: close\r\n\r\n`)).toMatchObject({
      framing: { kind: 'length', length: 12 },
      close: true,
    });
    expect(
      parse(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, Chunked\r\nExpect: 100-continue\r\n\r\n`),
    ).toMatchObject({
      framing: { kind: 'chunked' },
      expectContinue: true,
    });
    expect(parse(`GET / HTTP/1.1\r\n${H}Upgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n`)).toMatchObject({
      websocket: true,
    });
    expect(parse(`GET / HTTP/1.0\r\n${H}Connection: keep-alive\r\n\r\n`)).toMatchObject({ minor: 0, close: true });
  });
});
