/**
 * The agent's own GET over a unix socket (src/runtime/unix-get.ts), against servers of the test's
 * own that answer as an engine may (a length, chunks cut anywhere, a close) and as it must not.
 * test/runtime/engine-reads.test.ts compares its answers with dockerode's on the real engine.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket, TCPSocketListener, UnixSocketListener } from 'bun';
import { parseAnswer, unixGet } from '../../src/runtime/unix-get.ts';

const dir = mkdtempSync(join(tmpdir(), 'slipway-unix-get-'));
const listeners: (UnixSocketListener<unknown> | TCPSocketListener<unknown>)[] = [];
afterAll(() => {
  for (const l of listeners) l.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

let served = 0;
/**
 * A server on a new socket that answers each request with `pieces`, written one at a time with a
 * pause between them, then closes (unless `hang`); `requests` gets each request's bytes.
 */
function server(pieces: string[], opts: { hang?: boolean } = {}) {
  const path = join(dir, `s${served++}.sock`);
  const requests: string[] = [];
  listeners.push(
    Bun.listen({
      unix: path,
      socket: {
        async data(s: Socket<unknown>, chunk) {
          requests.push(chunk.toString());
          for (const piece of pieces) {
            s.write(piece);
            await Bun.sleep(5);
          }
          if (!opts.hang) s.end();
        },
      },
    }),
  );
  return { path, requests };
}

const text = (body: Uint8Array) => Buffer.from(body).toString();

describe('a GET over a unix socket', () => {
  test('sends one request that asks for the connection to close, and reads a body of the length given', async () => {
    const s = server(['HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n', '{"a":1}']);
    const answer = await unixGet(s.path, '/v1.41/info?x=1');
    expect(s.requests).toEqual(['GET /v1.41/info?x=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n']);
    expect([answer.status, answer.headers.get('content-type'), text(answer.body)]).toEqual([
      200,
      'application/json',
      '{"a":1}',
    ]);
  });

  test('joins chunks, whatever the reads cut them into, and ignores extensions and trailers', async () => {
    const body = '{"message":"no such network"}';
    const wire = `a;ext=1\r\n${body.slice(0, 10)}\r\n13\r\n${body.slice(10)}\r\n0\r\nX-Trailer: 1\r\n\r\n`;
    const s = server([
      'HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n',
      wire.slice(0, 3),
      wire.slice(3, 20),
      wire.slice(20, 21),
      wire.slice(21),
    ]);
    const answer = await unixGet(s.path, '/networks/x');
    expect([answer.status, text(answer.body)]).toEqual([404, body]);
  });

  test('reads to the close when no length is given', async () => {
    const s = server(['HTTP/1.0 500 Internal Server Error\r\n\r\n', 'partial ', 'text']);
    const answer = await unixGet(s.path, '/');
    expect([answer.status, text(answer.body)]).toEqual([500, 'partial text']);
  });

  test("rejects with the socket's code when nothing listens there", async () => {
    const missing = unixGet(join(dir, 'missing.sock'), '/');
    await expect(missing).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('gives up on an engine that does not finish its answer in time, and closes the connection', async () => {
    const s = server(['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', 'not all of it'], { hang: true });
    await expect(unixGet(s.path, '/containers/json?all=1', 200)).rejects.toThrow(
      'The engine did not answer GET /containers/json within 0.2 s',
    );
  });
});

describe('reading an answer', () => {
  const answer = (raw: string) => parseAnswer(Buffer.from(raw));

  test('takes repeated headers as one, joined by commas, with names in lower case', () => {
    const a = answer('HTTP/1.1 200 OK\r\nWarning: one\r\nwarning: two\r\nContent-Length: 2\r\n\r\nok');
    expect([...a.headers]).toEqual([
      ['warning', 'one, two'],
      ['content-length', '2'],
    ]);
  });

  test('keeps only the bytes the length gives', () => {
    expect(text(answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA').body)).toBe('ok');
  });

  test.each([
    ['a head that never ends', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n', 'before a whole answer head'],
    ['a status line of another protocol', 'ICY 200 OK\r\n\r\n', 'malformed head'],
    ['a header line without a name', 'HTTP/1.1 200 OK\r\n: x\r\n\r\n', 'malformed head'],
    ['a body shorter than its length', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort', 'before the whole answer'],
    ['a length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n', 'malformed head'],
    ['a transfer coding other than chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', 'malformed head'],
    ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'malformed chunks'],
    [
      'a chunk longer than its size',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n',
      'malformed chunks',
    ],
    ['chunks cut short', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', 'before the whole answer'],
    ['no last chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n', 'before the whole answer'],
  ])('refuses %s', (_, raw, message) => {
    expect(() => answer(raw)).toThrow(message);
  });
});
