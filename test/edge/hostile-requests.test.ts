/**
 * Hostile Host headers, request targets and framing, written byte by byte on raw sockets (fetch
 * and Bun.serve would repair some of them before they reach the edge), against a raw upstream that
 * records every request line it receives.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { closeAll, parseRaw, rawHttp, rawUpstream, startEdge, type TestEdge, websocketHandshake } from './helpers.ts';

afterEach(closeAll);

/** An edge routing web.localhost and www.example.com to a raw upstream; `lines` are the request lines it got. */
function recordingEdge(): TestEdge & { lines: string[] } {
  const lines: string[] = [];
  const app = rawUpstream((head, socket) => {
    lines.push(head.split('\r\n')[0]!);
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  return { ...startEdge([{ project: 'web', hostnames: ['www.example.com'], targets: [app] }]), lines };
}

/** The status the edge answers a raw request with (0: it closed without answering). */
async function statusOf(port: number, request: string): Promise<number> {
  const raw = await rawHttp(port, request);
  return raw === '' ? 0 : parseRaw(raw).status;
}

const get = (host: string) => `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

const hosts: [string, string, number][] = [
  ['a project host', 'web.localhost', 200],
  ['a project host in capitals', 'WEB.LocalHost', 200],
  ['a project host with a port', 'web.localhost:8080', 200],
  ['a project host with a trailing dot', 'web.localhost.', 200],
  ['a custom hostname', 'www.example.com:80', 200],
  ['an unknown host', 'nope.localhost', 404],
  ['an IPv4 literal', '127.0.0.1:8080', 404],
  ['an IPv6 literal', '[::1]:8080', 404],
  ['letters in the port', 'web.localhost:8x', 400],
  ['a path after the port', 'web.localhost:80/evil', 400],
  ['a path after the name', 'web.localhost/evil', 400],
  ['a query after the name', 'web.localhost?x=1', 400],
  ['a fragment after the name', 'web.localhost#x', 400],
  ['userinfo before the name', 'evil.example@web.localhost', 400],
  ['userinfo after the name', 'web.localhost@evil.example', 400],
  ['an empty port', 'web.localhost:', 400],
  ['a port above 65535', 'web.localhost:99999', 400],
  ['two ports', 'web.localhost:80:80', 400],
  ['an underscore', 'web_x.localhost', 400],
  ['a space', 'web localhost', 400],
  ['a list of hosts', 'web.localhost, evil.example', 400],
  ['an empty value', '', 400],
  ['UTF-8 letters', 'wéb.localhost', 400],
  ['percent-encoding', 'web%2elocalhost', 400],
  ['an empty label', 'web..localhost', 400],
  ['a leading dot', '.web.localhost', 400],
  ['a label of 64 characters', `${'a'.repeat(64)}.localhost`, 400],
  ['an unclosed IPv6 bracket', '[::1', 400],
  ['a name in brackets', '[web.localhost]', 400],
  ['text after an IPv6 literal', '[::1]x', 400],
  ['an IPv6 zone', '[fe80::1%25eth0]', 400],
  ['a control character (refused by the parser)', 'web\u0001.localhost', 400],
];

describe('hostile Host headers', () => {
  for (const [what, host, status] of hosts) {
    test(`${what} (${JSON.stringify(host)}) is answered ${status}`, async () => {
      const { port, lines } = recordingEdge();
      expect(await statusOf(port, get(host))).toBe(status);
      expect(lines).toEqual(status === 200 ? ['GET / HTTP/1.1'] : []);
    });
  }

  test('two Host headers are answered 400, whichever comes first', async () => {
    const { port, lines } = recordingEdge();
    const twice = (a: string, b: string) => `GET / HTTP/1.1\r\nHost: ${a}\r\nHost: ${b}\r\nConnection: close\r\n\r\n`;
    expect(await statusOf(port, twice('web.localhost', 'evil.example'))).toBe(400);
    expect(await statusOf(port, twice('evil.example', 'web.localhost'))).toBe(400);
    expect(await statusOf(port, twice('web.localhost', 'web.localhost'))).toBe(400);
    expect(lines).toEqual([]);
  });

  test('a request without Host is answered 400, HTTP/1.0 included', async () => {
    const { port, lines } = recordingEdge();
    expect(await statusOf(port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n')).toBe(400);
    expect(await statusOf(port, 'GET / HTTP/1.0\r\n\r\n')).toBe(400);
    expect(lines).toEqual([]);
  });

  test('the 400 is the edge page, for HEAD without a body', async () => {
    const { port } = recordingEdge();
    const page = parseRaw(await rawHttp(port, get('web.localhost/evil')));
    expect(page.headers.get('content-type')).toEqual(['text/html; charset=utf-8']);
    expect(page.body).toContain('400 Bad request');
    const head = parseRaw(await rawHttp(port, 'HEAD / HTTP/1.1\r\nHost: a:b:c\r\nConnection: close\r\n\r\n'));
    expect(head.status).toBe(400);
    expect(head.body).toBe('');
  });

  test('a WebSocket handshake with a hostile Host gets the 400 page and never reaches the upstream', async () => {
    const { port, lines } = recordingEdge();
    const handshake = websocketHandshake('/socket', 'web.localhost:80/evil');
    expect(await statusOf(port, handshake)).toBe(400);
    expect(lines).toEqual([]);
  });
});

const targets = [
  '/a/../b',
  '/..',
  '/a/b/..',
  '//x',
  '/a//b///c',
  '/%2e%2e/x',
  '/%2E%2E/%2e/x',
  '/.%2e/x',
  '/a/./b',
  '/a%2fb',
  '/a%5c..%5cb',
  '/a\\..\\b',
  '/;jsessionid=1/../admin',
  '/a/b%20c?x=%zz&y=1&y=2',
  '/?q=/../y',
  '/a?b?c',
  '/%',
  '/~user/',
];

describe('request targets reach the upstream byte for byte', () => {
  for (const target of targets) {
    test(`GET ${target}`, async () => {
      const { port, lines } = recordingEdge();
      const req = `GET ${target} HTTP/1.1\r\nHost: web.localhost\r\nConnection: close\r\n\r\n`;
      expect(await statusOf(port, req)).toBe(200);
      expect(lines).toEqual([`GET ${target} HTTP/1.1`]);
    });
  }

  test('so do those of WebSocket handshakes', async () => {
    const { port, lines } = recordingEdge();
    for (const target of targets) {
      const handshake = websocketHandshake(target);
      // The recording upstream answers 200 instead of 101, which the edge reports as a 502.
      expect(await statusOf(port, handshake)).toBe(502);
    }
    expect(lines).toEqual(targets.map((t) => `GET ${t} HTTP/1.1`));
  });
});

const framing: [string, string, number][] = [
  ['an absolute-form target', 'GET http://evil.example/ HTTP/1.1\r\nHost: web.localhost\r\n', 400],
  ['a target with a fragment', 'GET /a#b HTTP/1.1\r\nHost: web.localhost\r\n', 400],
  ['an asterisk-form target', 'OPTIONS * HTTP/1.1\r\nHost: web.localhost\r\n', 400],
  ['a target with a space', 'GET /a b HTTP/1.1\r\nHost: web.localhost\r\n', 400],
  ['a target with raw UTF-8', 'GET /ä HTTP/1.1\r\nHost: web.localhost\r\n', 400],
  ['CONNECT', 'CONNECT web.localhost:443 HTTP/1.1\r\nHost: web.localhost:443\r\n', 400],
  ['a lowercase method', 'get / HTTP/1.1\r\nHost: web.localhost\r\n', 400],
  ['HTTP/2 prior knowledge', 'PRI * HTTP/2.0\r\n\r\nSM\r\n', 400],
  [
    'Content-Length with Transfer-Encoding',
    'POST / HTTP/1.1\r\nHost: web.localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n',
    400,
  ],
  ['two Content-Lengths', 'POST / HTTP/1.1\r\nHost: web.localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n', 400],
  ['a coding after chunked', 'POST / HTTP/1.1\r\nHost: web.localhost\r\nTransfer-Encoding: chunked, gzip\r\n', 400],
  ['a coding without chunked', 'POST / HTTP/1.1\r\nHost: web.localhost\r\nTransfer-Encoding: gzip\r\n', 400],
  ['a folded header line', 'GET / HTTP/1.1\r\nHost: web.localhost\r\nX-A: a\r\n b\r\n', 400],
  ['a space before the colon', 'GET / HTTP/1.1\r\nHost : web.localhost\r\n', 400],
  ['bare LF line ends', 'GET / HTTP/1.1\nHost: web.localhost\n', 400],
  ['32 KiB of headers', `GET / HTTP/1.1\r\nHost: web.localhost\r\nX-Pad: ${'a'.repeat(32 * 1024)}\r\n`, 431],
];

describe('hostile HTTP framing', () => {
  for (const [what, head, status] of framing) {
    test(`${what} is answered ${status} and never reaches the upstream`, async () => {
      const { port, lines } = recordingEdge();
      const eol = head.includes('\r\n') ? '\r\n' : '\n';
      expect(await statusOf(port, `${head}Connection: close${eol}${eol}0\r\n\r\n`)).toBe(status);
      expect(lines).toEqual([]);
    });
  }

  test('a chunked body after another coding passes, framed by the edge', async () => {
    const { port, lines } = recordingEdge();
    const req =
      'POST / HTTP/1.1\r\nHost: web.localhost\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n';
    expect(await statusOf(port, req)).toBe(200);
    expect(lines).toEqual(['POST / HTTP/1.1']);
  });
});
