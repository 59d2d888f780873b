/**
 * A visitor's request head, parsed strictly: the request line (an uppercase method, a target of
 * visible ASCII kept exactly as sent, HTTP/1.0 or HTTP/1.1), the header lines (fields.ts) and the
 * body framing. Whatever llhttp's strict mode or nginx refuses is refused here, with the status
 * the edge answers before closing the connection: 431 for a head that is too large, else 400.
 */
import { NOT_FORWARDED_UPSTREAM } from '../headers.ts';
import { type Framing, framingOf, parseFields, sameChars, tokensOf } from './fields.ts';

/** Most bytes of a request head (node:http's default max header size). */
export const MAX_HEAD_BYTES = 16 * 1024;

/** A request head that passed. */
export interface RequestHead {
  method: string;
  /** The request target as sent, byte for byte. */
  url: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: 0 | 1;
  rawHeaders: string[];
  /** The names of rawHeaders, lowercased: names[i] is rawHeaders[2 * i]'s. */
  names: string[];
  /**
   * The bytes the head was parsed from (the head is its start). Bun.listen and node:tls hand each
   * read in a buffer of its own and do not reuse it (test/edge/http1/chunks.test.ts), so it may be
   * kept for the exchange: a request sent again after a reused connection closed is sent from it.
   */
  source: Buffer;
  /** The header lines as sent, each ending in CRLF, are source[fieldsAt, fieldsEnd) (empty when there are none). */
  fieldsAt: number;
  fieldsEnd: number;
  /**
   * Whether no field is one the edge drops or rewrites on the way upstream (hop-by-hop, identity,
   * Expect), so `fields` can go upstream as it is, followed by the edge's identity headers.
   */
  plain: boolean;
  /** The Host header's value (the head has at most one), or null. */
  host: string | null;
  framing: Exclude<Framing, { kind: 'invalid' }>;
  /** Whether the connection ends after this exchange (Connection: close, or HTTP/1.0). */
  close: boolean;
  /** Whether the request asks to become a WebSocket. */
  websocket: boolean;
  /** Whether the visitor waits for a 100 Continue before sending its body. */
  expectContinue: boolean;
}

/** Why a head was refused: the status the visitor gets. */
export interface RefusedHead {
  refused: 400 | 431;
}

/** The CRLF CRLF that ends a head (a Buffer: Buffer.indexOf is several times faster with one than with a string). */
export const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Where the head in `buf` ends (the index after its CRLF CRLF), -1 while it is incomplete, or a
 * refusal: a head over MAX_HEAD_BYTES, or a bare LF or CR (which would otherwise wait for a
 * CRLF CRLF that never comes).
 */
export function headEnd(buf: Buffer): number | RefusedHead {
  const end = buf.indexOf(HEAD_END);
  if (end !== -1) return end + 4 > MAX_HEAD_BYTES ? { refused: 431 } : end + 4;
  if (buf.length > MAX_HEAD_BYTES) return { refused: 431 };
  const lf = buf.indexOf(0x0a);
  if (lf === 0 || (lf > 0 && buf[lf - 1] !== 0x0d)) return { refused: 400 };
  // A bare CR would likewise leave the head waiting for its deadline.
  for (let cr = buf.indexOf(0x0d); cr !== -1 && cr + 1 < buf.length; cr = buf.indexOf(0x0d, cr + 2)) {
    if (buf[cr + 1] !== 0x0a) return { refused: 400 };
  }
  return -1;
}

/** Parses the head `buf[0, end)` (end as headEnd returned it). */
export function parseRequestHead(buf: Buffer, end: number): RequestHead | RefusedHead {
  // A bare CR or LF cannot pass: the request line and field grammars below refuse both.
  const head = buf.toString('latin1', 0, end - 4);
  const lineEnd = head.indexOf('\r\n');
  const stop = lineEnd === -1 ? head.length : lineEnd;
  const first = head.indexOf(' ');
  const last = stop === 0 ? -1 : head.lastIndexOf(' ', stop - 1);
  if (first <= 0 || first >= stop || last === first) return { refused: 400 };
  const method = methodOf(head, first);
  if (method === null || !visibleAscii(head, first + 1, last)) return { refused: 400 };
  const minor = versionOf(head, last + 1, stop);
  if (minor === -1) return { refused: 400 };
  const names: string[] = [];
  const rawHeaders = lineEnd === -1 ? [] : parseFields(head, lineEnd + 2, names);
  if (rawHeaders === null) return { refused: 400 };
  const framing = framingOf(rawHeaders, names);
  if (framing.kind === 'invalid') return { refused: 400 };
  // RFC 9112 §3.2: an HTTP/1.1 request needs exactly one Host, and no request may carry two.
  let hosts = 0;
  let host: string | null = null;
  let plain = true;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (name === 'host') {
      hosts++;
      host = rawHeaders[2 * i + 1]!;
    } else if (NOT_FORWARDED_UPSTREAM.has(name)) plain = false;
  }
  if (hosts > 1 || (minor === 1 && hosts === 0)) return { refused: 400 };
  return {
    method,
    url: head.slice(first + 1, last),
    minor,
    rawHeaders,
    names,
    source: buf,
    fieldsAt: lineEnd === -1 ? end - 2 : lineEnd + 2,
    fieldsEnd: end - 2,
    plain,
    host,
    framing,
    close: minor === 0 || (!plain && tokensOf(rawHeaders, 'connection', names).includes('close')),
    websocket: !plain && tokensOf(rawHeaders, 'upgrade', names)[0] === 'websocket',
    expectContinue: !plain && tokensOf(rawHeaders, 'expect', names).includes('100-continue'),
  };
}

/** Methods taken from this list rather than made anew when a request line starts with one. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];

/** The method `head[0, end)`: 1 to 20 uppercase letters, or null. */
function methodOf(head: string, end: number): string | null {
  if (end > 20) return null;
  for (let i = 0; i < end; i++) {
    const c = head.charCodeAt(i);
    if (c < 0x41 || c > 0x5a) return null;
  }
  for (const method of METHODS) if (method.length === end && sameChars(head, 0, method)) return method;
  return head.slice(0, end);
}

/** The minor version of `head[from, to)` when it is exactly `HTTP/1.0` or `HTTP/1.1`, else -1. */
function versionOf(head: string, from: number, to: number): 0 | 1 | -1 {
  if (to - from !== 8 || !sameChars(head, from, 'HTTP/1.')) return -1;
  const minor = head.charCodeAt(from + 7);
  return minor === 0x31 ? 1 : minor === 0x30 ? 0 : -1;
}

/** Whether `s[from, to)` is one or more visible ASCII characters (no space, control or non-ASCII byte). */
function visibleAscii(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}
