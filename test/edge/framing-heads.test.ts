/**
 * Hostile request heads at the edge, on raw sockets: obs-fold, bare LF and CR, NUL and control
 * bytes, whitespace before the colon, oversized heads, absolute-form targets, a missing Host, dot
 * segments. Each case is held to framing-cases.ts's rule: refused, or forwarded as exactly what
 * was meant; and HTTP/1.0 and Expect: 100-continue get what their versions promise.
 */
import { describe, expect, test } from 'bun:test';
import { ENGINE, exchange, finals } from './framing-fixture.ts';
import { type FramingCase, framingFixture, framingTests, head } from './framing-cases.ts';

const fx = framingFixture();

const get: FramingCase['forward'] = [{ method: 'GET', target: '/' }];
/** A GET / whose lines are joined by `eol` instead of CRLF. */
const lines = (eol: string, ...extra: string[]) =>
  ['GET / HTTP/1.1', 'Host: web.localhost', ...extra, '', ''].join(eol);

const syntax: FramingCase[] = [
  {
    what: 'an obs-folded header line',
    send: [head('GET / HTTP/1.1', 'X-A: a', ' b')],
    forward: [{ method: 'GET', target: '/', headers: { 'x-a': 'a b' } }],
    mayRefuse: true,
  },
  { what: 'bare LF line ends', send: [lines('\n')], forward: get, mayRefuse: true },
  { what: 'bare CR line ends', send: [lines('\r')], forward: null },
  { what: 'a bare CR inside a value', send: [head('GET / HTTP/1.1', 'X-A: a\rb')], forward: null },
  {
    what: 'a bare LF inside the head',
    send: [head('GET / HTTP/1.1', 'X-A: a\nX-B: b')],
    forward: get,
    mayRefuse: true,
  },
  { what: 'a NUL in a value', send: [head('GET / HTTP/1.1', 'X-A: a\0b')], forward: null },
  { what: 'a NUL in a name', send: [head('GET / HTTP/1.1', 'X-\0A: b')], forward: null },
  { what: 'a control byte in a value', send: [head('GET / HTTP/1.1', 'X-A: a\x01b')], forward: null },
  { what: 'DEL in a value', send: [head('GET / HTTP/1.1', 'X-A: a\x7fb')], forward: null },
  { what: 'a control byte in a name', send: [head('GET / HTTP/1.1', 'X-\x01A: b')], forward: null },
  { what: 'a space before the colon', send: [head('GET / HTTP/1.1', 'X-A : b')], forward: null },
  { what: 'a tab before the colon', send: [head('GET / HTTP/1.1', 'X-A\t: b')], forward: null },
  { what: 'a space inside a name', send: [head('GET / HTTP/1.1', 'X A: b')], forward: null },
  { what: 'a line without a colon', send: [head('GET / HTTP/1.1', 'X-A b')], forward: null },
  {
    what: "a space before Transfer-Encoding's colon",
    send: [`${head('POST / HTTP/1.1', 'Transfer-Encoding : chunked')}0\r\n\r\n`],
    forward: null,
  },
  {
    what: 'a whitespace-led line before the first field',
    send: ['GET / HTTP/1.1\r\n X-A: b\r\nHost: web.localhost\r\n\r\n'],
    forward: get,
    mayRefuse: true,
  },
  {
    what: 'a 64 KiB header value',
    send: [head('GET / HTTP/1.1', `X-Pad: ${'a'.repeat(65_536)}`)],
    forward: null,
    refuseWith: [400, 431],
  },
  {
    what: 'a 64 KiB request line',
    send: [head(`GET /${'a'.repeat(65_536)} HTTP/1.1`)],
    forward: null,
    refuseWith: [400, 414, 431],
  },
  { what: 'a lowercase protocol name', send: [head('GET / http/1.1')], forward: null },
  { what: 'HTTP/1.1 without its minor version', send: [head('GET / HTTP/1')], forward: null },
  { what: 'two spaces after the method', send: [head('GET  / HTTP/1.1')], forward: null },
];

const targets: FramingCase[] = [
  {
    what: 'an absolute-form target naming another project than Host',
    send: [head('GET http://other.localhost/x HTTP/1.1')],
    forward: [{ method: 'GET', target: '/x', to: 'other' }],
    mayRefuse: true,
    wellFramed: true,
  },
  { what: 'HTTP/1.1 without Host', send: ['GET / HTTP/1.1\r\nX-A: b\r\n\r\n'], forward: null },
  ...['/a/../b', '/%2e%2e/x', '/%2E%2E/%2e/x', '/./x', '/a/.%2e/b'].map((target) => ({
    what: `the target ${target}`,
    send: [head(`GET ${target} HTTP/1.1`)],
    forward: [{ method: 'GET', target }],
  })),
];

describe('malformed request heads', () => framingTests(fx, syntax));
describe('request targets and Host', () => framingTests(fx, targets));

describe('protocol versions and Expect', () => {
  test(`HTTP/1.0 without keep-alive is forwarded once and its connection closed (${ENGINE} engine)`, async () => {
    fx.web.reset();
    const got = await exchange(fx.port, ['GET /ten HTTP/1.0\r\nHost: web.localhost\r\n\r\n'], ['GET'], () => false, {
      tls: fx.tls,
    });
    expect(fx.web.requests.map((r) => `${r.start[0]} ${r.start[1]}`)).toEqual(['GET /ten']);
    expect({ statuses: finals(got.responses).map((r) => r.start[1]), closed: got.closed }).toEqual({
      statuses: ['200'],
      closed: true,
    });
  });

  test(`HTTP/1.0 with keep-alive serves a second request on the same connection or closes after the first (${ENGINE} engine)`, async () => {
    fx.web.reset();
    const first = 'GET /one HTTP/1.0\r\nHost: web.localhost\r\nConnection: keep-alive\r\n\r\n';
    const second = 'GET /two HTTP/1.0\r\nHost: web.localhost\r\nConnection: keep-alive\r\n\r\n';
    const sent = [first, { after: (raw: string) => raw.endsWith('ok'), send: second }];
    const got = await exchange(fx.port, sent, ['GET', 'GET'], (rs) => finals(rs).length === 2, { tls: fx.tls });
    const served = fx.web.requests.map((r) => r.start[1]);
    expect(served).toEqual(got.closed && served.length === 1 ? ['/one'] : ['/one', '/two']);
    expect(finals(got.responses).map((r) => r.start[1])).toEqual(served.map(() => '200'));
  });

  test(`Expect: 100-continue gets a 100 before the body is sent, then one request with the body (${ENGINE} engine)`, async () => {
    fx.web.reset();
    const asking = head('POST /upload HTTP/1.1', 'Content-Length: 5', 'Expect: 100-continue');
    const sent = [asking, { after: (raw: string) => raw.startsWith('HTTP/1.1 100 '), send: 'hello' }];
    const got = await exchange(fx.port, sent, ['POST'], (rs) => finals(rs).length === 1, { tls: fx.tls });
    expect(got.responses.map((r) => r.start[1])).toEqual(['100', '200']);
    expect(fx.web.requests.map((r) => [r.start[1], r.body])).toEqual([['/upload', 'hello']]);
  });

  test(`Expect: 100-continue with the body sent at once reaches the upstream as one request (${ENGINE} engine)`, async () => {
    fx.web.reset();
    const sent = [
      `${head('POST /upload HTTP/1.1', 'Content-Length: 5', 'Expect: 100-continue')}hello${head('GET /next HTTP/1.1')}`,
    ];
    const got = await exchange(fx.port, sent, ['POST', 'GET'], (rs) => finals(rs).length === 2, { tls: fx.tls });
    expect(fx.web.requests.map((r) => [r.start[1], r.body])).toEqual([
      ['/upload', 'hello'],
      ['/next', ''],
    ]);
    expect(finals(got.responses).map((r) => r.start[1])).toEqual(['200', '200']);
  });
});
