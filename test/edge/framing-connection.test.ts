/**
 * Hop-by-hop abuse at the edge, on raw sockets: a Connection header naming the fields that frame
 * or route the request (a proxy that drops what Connection lists must not drop the framing with
 * it), h2c upgrades, Transfer-Encoding on HTTP/1.0, a valid request with an invalid one behind it. Each case is held to framing-cases.ts's
 * rule: refused, or forwarded as exactly what was meant.
 */
import { describe } from 'bun:test';
import { type FramingCase, framingFixture, framingTests, head, SMUGGLED } from './framing-cases.ts';

const fx = framingFixture();

const cases: FramingCase[] = [
  {
    what: 'Connection naming Content-Length',
    send: [
      `${head('POST /a HTTP/1.1', 'Connection: Content-Length', 'Content-Length: 5')}hello${head('GET /b HTTP/1.1')}`,
    ],
    forward: [
      { method: 'POST', target: '/a', body: 'hello' },
      { method: 'GET', target: '/b' },
    ],
    mayRefuse: true,
  },
  {
    what: 'Connection naming Transfer-Encoding',
    send: [
      `${head('POST /a HTTP/1.1', 'Connection: Transfer-Encoding', 'Transfer-Encoding: chunked')}5\r\nhello\r\n0\r\n\r\n`,
    ],
    forward: [{ method: 'POST', target: '/a', body: 'hello' }],
    mayRefuse: true,
  },
  {
    what: 'Connection naming Host',
    send: [head('GET /a HTTP/1.1', 'Connection: Host')],
    forward: [{ method: 'GET', target: '/a', headers: { host: 'web.localhost' } }],
    mayRefuse: true,
  },
  {
    what: 'an h2c upgrade request',
    send: [
      head(
        'GET /a HTTP/1.1',
        'Connection: Upgrade, HTTP2-Settings',
        'Upgrade: h2c',
        'HTTP2-Settings: AAMAAABkAAQAAP__',
      ),
    ],
    forward: [{ method: 'GET', target: '/a', headers: { upgrade: '', 'http2-settings': '' } }],
    mayRefuse: true,
  },
  {
    what: 'Transfer-Encoding: chunked on HTTP/1.0 with a request behind it',
    send: [
      `POST /a HTTP/1.0\r\nHost: web.localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
    ],
    forward: [{ method: 'POST', target: '/a', body: 'hello' }],
    mayRefuse: true,
    nodeFails: 'the edge forwards the POST, then answers the visitor 400 in place of its response',
  },
  {
    what: 'a valid request followed by an invalid one in the same write',
    send: [`${head('GET /a HTTP/1.1')}GET /b HTTP/1.1\r\nHost : web.localhost\r\n\r\n`],
    forward: [{ method: 'GET', target: '/a' }],
    nodeFails:
      'the edge forwards GET /a, then answers the visitor only the 400 for the next request, losing the response to the first',
  },
  {
    what: "a space before Content-Length's colon",
    send: [`${head('POST /a HTTP/1.1', 'Content-Length : 5')}hello`],
    forward: null,
  },
];

describe('hop-by-hop abuse', () => framingTests(fx, cases));
