/**
 * The edge against nginx, the reference: the same valid requests, written byte by byte, through
 * each proxy to its own recording upstream (framing-fixture.ts) must arrive with the same method,
 * target, body and headers (forwarded and hop-by-hop ones aside), and the same upstream answers
 * (HEAD, 204, 304, 1xx, chunked with trailers, Connection: close, close-delimited) must come back
 * with the same status, headers and bytes. Runs on the engine SLIPWAY_EDGE_ENGINE names.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { closeAll, startEdge } from './helpers.ts';
import {
  engineOptions,
  ENGINE,
  exchange,
  finals,
  type Recorder,
  recordingUpstream,
  type Reply,
} from './framing-fixture.ts';
import { startNginx } from './nginx.ts';
import { parseResponses, values, type WireMessage } from './wire.ts';

/** 1 MiB of every byte value, to catch any re-encoding. */
const BIG = Array.from({ length: 1 << 20 }, (_, i) => String.fromCharCode((i * 7919) & 0xff)).join('');
const GZIP = Buffer.from(Bun.gzipSync(Buffer.from('compressed by the app\n'))).toString('latin1');

const ok = (head: string, body = '') => `HTTP/1.1 200 OK\r\n${head}Content-Length: ${body.length}\r\n\r\n${body}`;
const answers: Record<string, ReturnType<Reply>> = {
  '/plain': { raw: ok('Content-Type: text/plain\r\nX-App: 1\r\n', 'hello') },
  '/head': { raw: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n' },
  '/204': { raw: 'HTTP/1.1 204 No Content\r\nX-App: 1\r\n\r\n' },
  '/304': { raw: 'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nCache-Control: max-age=60\r\n\r\n' },
  '/early-hints': { raw: `HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n${ok('', 'ok')}` },
  '/continue': { raw: `HTTP/1.1 100 Continue\r\n\r\n${ok('', 'ok')}` },
  '/trailers': {
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n',
  },
  '/close-delimited': {
    raw: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the upstream closes',
    close: true,
  },
  '/connection-close': { raw: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok', close: true },
  '/cookies': { raw: ok('Set-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; HttpOnly\r\n', 'ok') },
  '/big': { raw: ok('Content-Type: application/octet-stream\r\n', BIG) },
  '/gzip': { raw: ok('Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n', GZIP) },
  '/missing': { raw: 'HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\nnot found' },
  '/redirect': { raw: 'HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n' },
};
const reply: Reply = (req) => answers[req.start[1]!] ?? { raw: ok('', 'echo') };

/**
 * Headers that describe a hop or the proxy, not the request or response: left out of the
 * comparison. Trailer too: nginx passes it on while dropping the trailer fields it announces.
 */
const HOP = new Set(['connection', 'keep-alive', 'te', 'transfer-encoding', 'trailer', 'date', 'server']);
const PROXY = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip', 'forwarded', 'via']);

/** A message reduced to what both proxies must agree on; `lengthToo` keeps Content-Length. */
function meaning(m: WireMessage | undefined, lengthToo: boolean) {
  if (!m) return null;
  const skip = (n: string) => HOP.has(n) || PROXY.has(n) || (!lengthToo && n === 'content-length');
  // Order matters among fields of one name only (Set-Cookie): nginx writes its own ones first.
  const headers = m.headers
    .map(([n, v]) => [n.toLowerCase(), v] as const)
    .filter(([n]) => !skip(n))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { start: m.start.slice(0, 2), headers, body: m.body };
}

const proxies = { edge: 0, nginx: 0 };
const recorders = {} as Record<keyof typeof proxies, Recorder>;

beforeAll(async () => {
  recorders.edge = recordingUpstream(reply);
  recorders.nginx = recordingUpstream(reply);
  proxies.edge = startEdge(
    [{ project: 'web', hostnames: [], targets: [recorders.edge.address] }],
    engineOptions(),
  ).port;
  proxies.nginx = await startNginx(recorders.nginx.address);
});
afterAll(closeAll);

/** Sends `raw` through one proxy on a new connection; what its upstream read and what came back. */
async function through(proxy: keyof typeof proxies, raw: string, method: string) {
  recorders[proxy].reset();
  const got = await exchange(
    proxy === 'edge' ? proxies.edge : proxies.nginx,
    [raw],
    [method],
    (rs) => finals(rs).length > 0,
  );
  return { upstream: recorders[proxy].requests.slice(), errors: recorders[proxy].errors.slice(), got };
}

const request = (start: string, lines: string[] = [], body = '') =>
  [start, 'Host: web.localhost', ...lines, '', body].join('\r\n');
const ALL_BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');

const requests: [string, string, string][] = [
  ['a GET with a query', 'GET', request('GET /q?a=1&b=%20&c HTTP/1.1', ['Accept: */*', 'User-Agent: diff/1'])],
  ['a GET with dot segments', 'GET', request('GET /a/../b/%2e%2e/./c HTTP/1.1')],
  [
    'a POST with a Content-Length body',
    'POST',
    request('POST /form HTTP/1.1', ['Content-Type: text/plain', 'Content-Length: 5'], 'hello'),
  ],
  [
    'a POST with a chunked body',
    'POST',
    request('POST /chunks HTTP/1.1', ['Transfer-Encoding: chunked'], '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'),
  ],
  ['a PUT of every byte value', 'PUT', request('PUT /bytes HTTP/1.1', ['Content-Length: 256'], ALL_BYTES)],
  ['a DELETE', 'DELETE', request('DELETE /item/1 HTTP/1.1')],
  [
    'an OPTIONS',
    'OPTIONS',
    request('OPTIONS /cors HTTP/1.1', ['Origin: http://a.example', 'Access-Control-Request-Method: PUT']),
  ],
  [
    'a PATCH with JSON',
    'PATCH',
    request('PATCH /j HTTP/1.1', ['Content-Type: application/json', 'Content-Length: 8'], '{"a":1}\n'),
  ],
  [
    'repeated fields',
    'GET',
    request('GET /multi HTTP/1.1', ['X-Multi: 1', 'Cookie: a=1', 'X-Multi: 2', 'Cookie: b=2']),
  ],
  ['an empty field value', 'GET', request('GET /empty HTTP/1.1', ['X-Empty:', 'X-Spaces:    padded   '])],
  ['Connection: close', 'GET', request('GET /bye HTTP/1.1', ['Connection: close'])],
  ['an HTTP/1.0 request', 'GET', request('GET /old HTTP/1.0')],
];

describe(`requests arrive at the upstream as nginx forwards them (${ENGINE} engine)`, () => {
  for (const [what, method, raw] of requests) {
    test(`${what} arrives with the same method, target, headers and body`, async () => {
      const edge = await through('edge', raw, method);
      const nginx = await through('nginx', raw, method);
      expect(nginx.upstream).toHaveLength(1);
      expect({ errors: edge.errors, request: edge.upstream.map((m) => meaning(m, false)) }).toEqual({
        errors: [],
        request: nginx.upstream.map((m) => meaning(m, false)),
      });
    });
  }
});

const responses: [string, string, string, string][] = [
  ['a plain response', 'GET', '/plain', ''],
  ['a HEAD response with a Content-Length', 'HEAD', '/head', ''],
  ['a 204', 'GET', '/204', ''],
  ['a 304', 'GET', '/304', 'If-None-Match: "v1"'],
  ['a chunked response with trailers', 'GET', '/trailers', 'TE: trailers'],
  ['a close-delimited response', 'GET', '/close-delimited', ''],
  ['a response with Connection: close', 'GET', '/connection-close', ''],
  ['two Set-Cookie fields', 'GET', '/cookies', ''],
  ['a 1 MiB body of every byte value', 'GET', '/big', ''],
  ['a gzip body', 'GET', '/gzip', 'Accept-Encoding: gzip'],
  ['a 404', 'GET', '/missing', ''],
  ['a redirect', 'GET', '/redirect', ''],
];

describe(`responses come back as nginx returns them (${ENGINE} engine)`, () => {
  for (const [what, method, target, line] of responses) {
    test(`${what} comes back with the same status, headers and bytes`, async () => {
      const raw = request(`${method} ${target} HTTP/1.1`, line ? [line] : []);
      const edge = await through('edge', raw, method);
      const nginx = await through('nginx', raw, method);
      const sent = finals(parseResponses(answers[target]!.raw, [method], true).messages)[0]!;
      const upstreamLength = values(sent.headers, 'content-length').length > 0;
      const final = (x: typeof edge) => meaning(finals(x.got.responses)[0], upstreamLength);
      expect(nginx.got.error).toBeUndefined();
      expect({ error: edge.got.error, response: final(edge) }).toEqual({ error: undefined, response: final(nginx) });
    });
  }
});

describe(`interim responses (${ENGINE} engine)`, () => {
  // nginx 1.22 is no reference here: it never answers once its upstream sent a 1xx before the
  // response. The edge is held to the upstream's own final response instead.
  for (const [what, target] of [
    ['a 103 before the response', '/early-hints'],
    ['an unasked 100 before the response', '/continue'],
  ] as const) {
    test(`${what} is followed by the upstream's final response, status, headers and bytes`, async () => {
      const edge = await through('edge', request(`GET ${target} HTTP/1.1`), 'GET');
      const sent = finals(parseResponses(answers[target]!.raw, ['GET'], true).messages)[0];
      expect(edge.got.error).toBeUndefined();
      expect(meaning(finals(edge.got.responses)[0], true)).toEqual(meaning(sent, true));
    });
  }
});
