/**
 * The lane's answers as the bytes Bun.serve writes for their Responses, so that a read answered
 * by the API's front cannot be told from one answered behind it (test/api/front-differential.test.ts):
 * the status line with its reason phrase; the header fields Bun knows by name first, in its
 * spelling, then the others as given, in their order; `Date` and `Content-Length` last.
 */
import { STATUS_TEXTS } from '../../edge/status-texts.ts';
import type { AnswerParts } from '../errors.ts';
import type { LaneJson } from '../fast-lane/lane.ts';
import { JSON_TYPE } from '../fast-lane/headers.ts';
import { rateLimitField, windowHeaders } from '../admission.ts';

/** Names Bun.serve writes in this spelling (and ahead of the others), by their lowercase form. */
const KNOWN = new Map(
  [
    'Access-Control-Allow-Origin',
    'Age',
    'Cache-Control',
    'Content-Disposition',
    'Content-Encoding',
    'Content-Security-Policy',
    'Content-Type',
    'ETag',
    'Expires',
    'Last-Modified',
    'Link',
    'Location',
    'Pragma',
    'Referrer-Policy',
    'Strict-Transport-Security',
    'Vary',
    'X-Content-Type-Options',
    'X-Frame-Options',
    'X-XSS-Protection',
  ].map((name) => [name.toLowerCase(), name]),
);

let dateSecond = -1;
let dateLine = '';

/** `Date: …\r\n` for now, made once a second. */
function date(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `Date: ${new Date(second * 1000).toUTCString()}\r\n`;
  }
  return dateLine;
}

/** The start of a 200's head for each limit and reset second (windowHeaders gives one array per pair). */
const starts = new WeakMap<object, string>();

function okStart(limit: number, resetSeconds: number): string {
  const window = windowHeaders(limit, resetSeconds);
  let start = starts.get(window);
  if (start === undefined) {
    start = `HTTP/1.1 200 OK\r\nContent-Type: ${JSON_TYPE}\r\n`;
    for (const [name, value] of window) start += `${name}: ${value}\r\n`;
    starts.set(window, start);
  }
  return start;
}

/**
 * Where an answer is put together for its one write: the socket's Outbound copies what it cannot
 * send at once, so the buffer is free again for the next answer. A new buffer per answer made the
 * garbage collector a large part of an answer's cost.
 */
const SCRATCH = Buffer.allocUnsafe(64 * 1024);

/** The last JSON body written and its UTF-8 bytes: a read answered again and again has the same body (bodies.ts). */
let lastJson = '';
let lastJsonBytes = Buffer.alloc(0);

/** A 200 of JSON as bytes (headers.ts's jsonResponse, as Bun.serve writes it), valid until the next answer. */
export function jsonBytes(answer: LaneJson): Uint8Array {
  const { decision: d, json } = answer;
  if (json !== lastJson) {
    lastJson = json;
    lastJsonBytes = Buffer.from(json, 'utf8');
  }
  const body = lastJsonBytes;
  const head =
    `${okStart(d.limit, d.resetSeconds)}x-request-id: ${answer.requestId}\r\n` +
    `x-ratelimit-remaining: ${d.remaining}\r\nratelimit: ${rateLimitField(d)}\r\n${date()}` +
    `Content-Length: ${body.length}\r\n\r\n`;
  // The head is ASCII (a request id is checked to be, request-state.ts): one byte per character.
  if (head.length + body.length > SCRATCH.length) return Buffer.concat([Buffer.from(head, 'latin1'), body]);
  const n = SCRATCH.write(head, 0, 'latin1');
  body.copy(SCRATCH, n);
  return SCRATCH.subarray(0, n + body.length);
}

/** `text` as UTF-8, in SCRATCH when it fits. */
function inScratch(text: string): Uint8Array {
  // A UTF-16 code unit takes at most 3 bytes in UTF-8.
  if (text.length * 3 > SCRATCH.length) return Buffer.from(text, 'utf8');
  return SCRATCH.subarray(0, SCRATCH.write(text, 0, 'utf8'));
}

/** An answer's parts as bytes (partsResponse, as Bun.serve writes it), valid until the next answer. */
export function partsBytes(parts: AnswerParts): Uint8Array {
  let known = '';
  let others = '';
  for (const [name, value] of Object.entries(parts.headers)) {
    const spelled = KNOWN.get(name.toLowerCase());
    if (spelled) known += `${spelled}: ${value}\r\n`;
    else others += `${name}: ${value}\r\n`;
  }
  const reason = STATUS_TEXTS[parts.status] ?? '';
  const head =
    `HTTP/1.1 ${parts.status} ${reason}\r\n${known}${others}${date()}` +
    `Content-Length: ${Buffer.byteLength(parts.body)}\r\n\r\n`;
  return inScratch(head + parts.body);
}
