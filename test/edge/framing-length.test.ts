/**
 * Hostile body framing at the edge, on raw sockets: Content-Length and Transfer-Encoding in
 * conflict, malformed lengths and chunk sizes, requests hidden in bodies or pipelined after them.
 * Each case is held to framing-cases.ts's rule: refused, or forwarded as exactly what was meant.
 */
import { describe } from 'bun:test';
import { type FramingCase, framingFixture, framingTests, head, SMUGGLED } from './framing-cases.ts';

const fx = framingFixture();

/** A POST to / with `lines`, whose body is `body` followed by a request smuggled behind it. */
function smuggling(lines: string[], body: string): string {
  const rest = body + SMUGGLED;
  return head('POST / HTTP/1.1', ...lines.map((l) => l.replace('{length}', String(rest.length)))) + rest;
}

const post: FramingCase['forward'] = [{ method: 'POST', target: '/' }];
const postHello: FramingCase['forward'] = [{ method: 'POST', target: '/', body: 'hello' }];
/** A well-framed chunked POST, then the request pipelined behind it (legitimately two). */
const postHelloThenGet: FramingCase['forward'] = [...postHello, { method: 'GET', target: '/smuggled' }];

const conflicts: FramingCase[] = [
  {
    what: 'Content-Length before Transfer-Encoding: chunked',
    send: [smuggling(['Content-Length: {length}', 'Transfer-Encoding: chunked'], '0\r\n\r\n')],
    forward: post,
    mayRefuse: true,
  },
  {
    what: 'Transfer-Encoding: chunked before Content-Length',
    send: [smuggling(['Transfer-Encoding: chunked', 'Content-Length: {length}'], '0\r\n\r\n')],
    forward: post,
    mayRefuse: true,
  },
  {
    what: 'a short Content-Length with a chunked body',
    send: [smuggling(['Content-Length: 3', 'Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n')],
    forward: postHello,
    mayRefuse: true,
  },
  {
    what: 'Transfer-Encoding "gzip, chunked" with Content-Length',
    send: [smuggling(['Content-Length: {length}', 'Transfer-Encoding: gzip, chunked'], '0\r\n\r\n')],
    forward: post,
    mayRefuse: true,
  },
  {
    what: 'Transfer-Encoding "chunked " with spaces and Content-Length',
    send: [smuggling(['Content-Length: {length}', 'Transfer-Encoding:   chunked   '], '0\r\n\r\n')],
    forward: post,
    mayRefuse: true,
  },
  {
    what: 'Transfer-Encoding "CHUNKED" in capitals with Content-Length',
    send: [smuggling(['Content-Length: {length}', 'Transfer-Encoding: CHUNKED'], '0\r\n\r\n')],
    forward: post,
    mayRefuse: true,
  },
  {
    what: 'Transfer-Encoding "chunked, identity" (chunked not last)',
    send: [smuggling(['Transfer-Encoding: chunked, identity'], '0\r\n\r\n')],
    forward: null,
  },
  {
    what: 'two Transfer-Encoding fields, chunked then identity',
    send: [smuggling(['Transfer-Encoding: chunked', 'Transfer-Encoding: identity'], '0\r\n\r\n')],
    forward: null,
  },
  {
    what: 'two Transfer-Encoding: chunked fields with Content-Length',
    send: [
      smuggling(['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked', 'Content-Length: {length}'], '0\r\n\r\n'),
    ],
    forward: post,
    mayRefuse: true,
  },
  {
    what: 'Transfer-Encoding "xchunked"',
    send: [smuggling(['Transfer-Encoding: xchunked'], '0\r\n\r\n')],
    forward: null,
  },
];

const lengths: FramingCase[] = [
  {
    what: 'two equal Content-Lengths',
    send: [`${head('POST / HTTP/1.1', 'Content-Length: 5', 'Content-Length: 5')}hello`],
    forward: postHello,
    mayRefuse: true,
    nodeFails: 'both fields are forwarded, which RFC 9110 §8.6 forbids and a strict upstream refuses',
  },
  {
    what: 'a Content-Length list of equal values',
    send: [`${head('POST / HTTP/1.1', 'Content-Length: 5, 5')}hello`],
    forward: postHello,
    mayRefuse: true,
  },
  {
    what: 'two different Content-Lengths',
    send: [smuggling(['Content-Length: 5', 'Content-Length: {length}'], 'hello')],
    forward: null,
  },
  { what: 'Content-Length "+5"', send: [smuggling(['Content-Length: +5'], 'hello')], forward: null },
  { what: 'Content-Length "-1"', send: [smuggling(['Content-Length: -1'], 'hello')], forward: null },
  { what: 'Content-Length "0x5"', send: [smuggling(['Content-Length: 0x5'], 'hello')], forward: null },
  { what: 'Content-Length "5 5"', send: [smuggling(['Content-Length: 5 5'], 'hello')], forward: null },
  {
    what: 'Content-Length with leading zeros',
    send: [`${head('POST / HTTP/1.1', 'Content-Length: 0005')}hello`],
    forward: postHello,
    mayRefuse: true,
  },
  {
    what: 'a Content-Length past 2^64',
    send: [smuggling(['Content-Length: 18446744073709551621'], 'hello')],
    forward: null,
    refuseWith: [400, 413],
  },
];

const chunked = (body: string) => [head('POST / HTTP/1.1', 'Transfer-Encoding: chunked') + body + SMUGGLED];

const chunks: FramingCase[] = [
  { what: 'a chunk size overflowing 64 bits', send: chunked('10000000000000005\r\nhello\r\n0\r\n\r\n'), forward: null },
  { what: 'a negative chunk size', send: chunked('-5\r\nhello\r\n0\r\n\r\n'), forward: null },
  { what: 'a chunk size with 0x', send: chunked('0x5\r\nhello\r\n0\r\n\r\n'), forward: null },
  { what: 'a chunk size with a space inside', send: chunked('5 5\r\nhello\r\n0\r\n\r\n'), forward: null },
  { what: 'chunk data longer than its size', send: chunked('3\r\nhello\r\n0\r\n\r\n'), forward: null },
  {
    what: 'a chunk extension',
    send: chunked('5;name="value"\r\nhello\r\n0\r\n\r\n'),
    forward: postHelloThenGet,
    mayRefuse: true,
  },
  {
    what: 'a 64 KiB chunk extension',
    send: chunked(`5;x=${'a'.repeat(65_536)}\r\nhello\r\n0\r\n\r\n`),
    forward: postHelloThenGet,
    mayRefuse: true,
    refuseWith: [400, 413],
  },
  {
    what: 'a last chunk followed by a request line where trailers go',
    send: [`${head('POST / HTTP/1.1', 'Transfer-Encoding: chunked')}5\r\nhello\r\n0\r\n${SMUGGLED}`],
    forward: null,
  },
  { what: 'a chunk size with leading zeros', send: chunked('0005\r\nhello\r\n0\r\n\r\n'), forward: postHelloThenGet },
  { what: 'a chunk extension holding a bare LF', send: chunked('5;a\nb\r\nhello\r\n0\r\n\r\n'), forward: null },
  {
    what: 'chunk lines ending in bare LF',
    send: chunked('5\nhello\n0\n\n'),
    forward: postHelloThenGet,
    mayRefuse: true,
  },
  {
    what: 'a last chunk with a trailer field',
    send: chunked('5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n'),
    forward: postHelloThenGet,
  },
];

const behind: FramingCase[] = [
  {
    what: 'two requests pipelined after a Content-Length body',
    send: [`${head('POST /a HTTP/1.1', 'Content-Length: 5')}hello${head('GET /b HTTP/1.1')}${head('GET /c HTTP/1.1')}`],
    forward: [
      { method: 'POST', target: '/a', body: 'hello' },
      { method: 'GET', target: '/b' },
      { method: 'GET', target: '/c' },
    ],
  },
  {
    what: 'a request pipelined after a chunked body',
    send: [
      `${head('POST /a HTTP/1.1', 'Transfer-Encoding: chunked')}5\r\nhello\r\n0\r\n\r\n${head('GET /b HTTP/1.1')}`,
    ],
    forward: [
      { method: 'POST', target: '/a', body: 'hello' },
      { method: 'GET', target: '/b' },
    ],
  },
  {
    what: 'a request inside a Content-Length body',
    send: [head('POST /a HTTP/1.1', `Content-Length: ${SMUGGLED.length}`) + SMUGGLED],
    forward: [{ method: 'POST', target: '/a', body: SMUGGLED }],
  },
  {
    what: 'a request inside a chunked body',
    send: [
      `${head('POST /a HTTP/1.1', 'Transfer-Encoding: chunked')}${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`,
    ],
    forward: [{ method: 'POST', target: '/a', body: SMUGGLED }],
  },
  {
    what: 'a GET with a Content-Length body holding a request',
    send: [head('GET /a HTTP/1.1', `Content-Length: ${SMUGGLED.length}`) + SMUGGLED],
    forward: [{ method: 'GET', target: '/a', body: SMUGGLED }],
    mayRefuse: true,
  },
];

describe('Content-Length and Transfer-Encoding in conflict', () => framingTests(fx, conflicts));
describe('malformed Content-Length', () => framingTests(fx, lengths));
describe('malformed chunks', () => framingTests(fx, chunks));
describe('requests behind and inside bodies', () => framingTests(fx, behind));
