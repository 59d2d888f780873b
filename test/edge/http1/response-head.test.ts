/**
 * The native engine's response head parser on its own: the status lines an upstream may send and
 * those it gets a 502 for (null here), and what a head that passes is parsed into.
 */
import { describe, expect, test } from 'bun:test';
import { parseResponseHead } from '../../../src/edge/http1/response-head.ts';

function parse(text: string) {
  const buf = Buffer.from(text, 'latin1');
  return parseResponseHead(buf, buf.indexOf('\r\n\r\n') + 4);
}

describe('the response head parser', () => {
  const refused = [
    'HTTP/1.2 200 OK',
    'HTTP/2 200 OK',
    'http/1.1 200 OK',
    'HTTP/1.1 099 Low',
    'HTTP/1.1 20 OK',
    'HTTP/1.1 2000 OK',
    'HTTP/1.1 20x OK',
    'HTTP/1.1  200 OK',
    'HTTP/1.1 200\tOK',
    'HTTP/1.1 200 O\u0000K',
    'HTTP/1.1 200 O\rK',
    'HTTP/1.1 200 O\nK',
    ' HTTP/1.1 200 OK',
  ];
  for (const line of refused) {
    test(`refuses the status line ${JSON.stringify(line)}`, () => {
      expect(parse(`${line}\r\nContent-Length: 0\r\n\r\n`)).toBeNull();
    });
  }

  test('reads the version, status and reason as sent, an empty or missing reason included', () => {
    expect(parse('HTTP/1.1 200 OK\r\n\r\n')).toMatchObject({ status: 200, reason: 'OK', keepAlive: true });
    expect(parse('HTTP/1.1 404 Not \u00e9 Found\t!\r\n\r\n')).toMatchObject({ reason: 'Not \u00e9 Found\t!' });
    expect(parse('HTTP/1.1 204 \r\n\r\n')).toMatchObject({ status: 204, reason: '' });
    expect(parse('HTTP/1.1 999\r\n\r\n')).toMatchObject({ status: 999, reason: '' });
    expect(parse('HTTP/1.0 200 OK\r\n\r\n')).toMatchObject({ keepAlive: false });
    expect(parse('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n')).toMatchObject({ keepAlive: true });
  });

  test('keeps names as sent with their lowercase forms, and the Connection tokens', () => {
    const head = parse('HTTP/1.1 200 OK\r\nServer: x\r\nX-Odd-Name: 1\r\nConnection: Close, X-Odd-Name\r\n\r\n');
    expect(head).toMatchObject({
      rawHeaders: ['Server', 'x', 'X-Odd-Name', '1', 'Connection', 'Close, X-Odd-Name'],
      names: ['server', 'x-odd-name', 'connection'],
      connection: ['close', 'x-odd-name'],
      keepAlive: false,
    });
  });
});
