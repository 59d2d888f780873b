import { describe, expect, test } from 'bun:test';
import { checkOrigin, checkUpgrade, commandOf } from '../../src/api/exec/request.ts';
import { AppError } from '../../src/errors.ts';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? `${err.status} ${err.message}` : String(err);
  }
  return 'accepted';
};
const headers = (h: Record<string, string>) => new Headers({ host: 'slipway.example.com', ...h });

describe("an exec handshake's origin", () => {
  test.each([
    [{}, 'accepted'],
    [{ origin: 'https://slipway.example.com' }, 'accepted'],
    [{ origin: 'https://SLIPWAY.example.com' }, 'accepted'],
    [{ origin: 'https://evil.example' }, '403 Cannot open an exec session from the web page at "https://evil.example"'],
    [
      { origin: 'https://slipway.example.com:8443' },
      '403 Cannot open an exec session from the web page at "https://slipway.example.com:8443"',
    ],
    [{ origin: 'null' }, '403 Cannot open an exec session from the web page at "null"'],
    [
      { origin: 'https://slipway.example.com.evil.example' },
      '403 Cannot open an exec session from the web page at "https://slipway.example.com.evil.example"',
    ],
  ])('%j is %s', (h, expected) => {
    expect(refusal(() => checkOrigin(headers(h)))).toBe(expected);
  });

  test('a request without Upgrade: websocket is a 400 naming the handshake', () => {
    expect(refusal(() => checkUpgrade(headers({})))).toBe('400 Expected a WebSocket handshake (Upgrade: websocket)');
    expect(refusal(() => checkUpgrade(headers({ upgrade: 'WebSocket' })))).toBe('accepted');
  });
});

describe("an exec request's command", () => {
  const url = (q: string) => `http://localhost/v1/projects/web/exec?${q}`;

  test('is one argument per cmd parameter, in order, commas and spaces kept', () => {
    expect(commandOf(url('cmd=sh&cmd=-c&cmd=echo%20a%2C%20b%3B%20id'))).toEqual(['sh', '-c', 'echo a, b; id']);
  });

  test('defaults to /bin/sh', () => {
    expect(commandOf(url('tty=true'))).toEqual(['/bin/sh']);
  });

  test.each([
    ['an empty program name', 'cmd=', '/cmd/0', 'The program name is empty'],
    ['a NUL in an argument', 'cmd=echo&cmd=a%00b', '/cmd/1', 'Contains a NUL character'],
    ['an argument over 8 KiB', `cmd=echo&cmd=${'x'.repeat(8193)}`, '/cmd/1', 'Longer than 8192 characters'],
    ['257 arguments', Array.from({ length: 257 }, () => 'cmd=a').join('&'), '/cmd', 'At most 256 arguments'],
  ])('refuses %s with 422', (_label, q, path, message) => {
    try {
      commandOf(url(q));
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).status).toBe(422);
      expect((err as AppError).issues).toEqual([{ path, message }]);
    }
  });
});
