/**
 * A visitor's request head, parsed strictly: the request line (an uppercase method, a target of
 * visible ASCII kept exactly as sent, HTTP/1.0 or HTTP/1.1), the header lines (head-lines.ts) and the
 * body framing. Whatever llhttp's strict mode or nginx refuses is refused here, with the status
 * the edge answers before closing the connection: 431 for a head that is too large, else 400.
 */
import { NOT_FORWARDED_UPSTREAM } from '../headers.ts';
import {
  type BodyFraming,
  fieldStrings,
  framingOf,
  kindTable,
  LineKind,
  type Lines,
  scanLines,
  tokensOfKind,
  lineValue,
} from './head-lines.ts';

/** Most bytes of a request head (node:http's default max header size). */
export const MAX_HEAD_BYTES = 16 * 1024;

/** A request head that passed. */
export class RequestHead {
  private strings: { raw: string[]; names: string[] } | null = null;
  /** The Host the parser checked (exactly one for HTTP/1.1, at most one for HTTP/1.0), for dispatch. */
  readonly checkedHost: string | null;

  constructor(
    readonly method: string,
    /** The request target as sent, byte for byte. */
    readonly url: string,
    /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
    readonly minor: 0 | 1,
    /**
     * The bytes the head was parsed from (the head is its start). Bun.listen and node:tls hand each
     * read in a buffer of its own and do not reuse it (test/edge/http1/chunks.test.ts), so it may be
     * kept for the exchange: a request sent again after a reused connection closed is sent from it.
     */
    readonly source: Buffer,
    /** The header lines as scanned (head-lines.ts). */
    readonly lines: Lines,
    /** The header lines as sent, each ending in CRLF, are source[fieldsAt, fieldsEnd) (empty when there are none). */
    readonly fieldsAt: number,
    readonly fieldsEnd: number,
    /**
     * Whether no field is one the edge drops or rewrites on the way upstream (hop-by-hop, identity,
     * Expect), so `fields` can go upstream as it is, followed by the edge's identity headers.
     */
    readonly plain: boolean,
    /** The Host header's value (the head has at most one), or null. */
    readonly host: string | null,
    readonly framing: BodyFraming,
  ) {
    this.checkedHost = host;
  }

  /** Whether the connection ends after this exchange (Connection: close, or HTTP/1.0). */
  get close(): boolean {
    return this.minor === 0 || (!this.plain && this.tokens(LineKind.Connection).includes('close'));
  }

  /** Whether the request asks to become a WebSocket. */
  get websocket(): boolean {
    return !this.plain && this.tokens(LineKind.Upgrade)[0] === 'websocket';
  }

  /** Whether the visitor waits for a 100 Continue before sending its body. */
  get expectContinue(): boolean {
    return !this.plain && this.tokens(LineKind.Expect).includes('100-continue');
  }

  /** The fields as a raw list (names as sent, values without surrounding whitespace), made when first asked for. */
  get rawHeaders(): string[] {
    this.strings ??= fieldStrings(this.source, this.lines);
    return this.strings.raw;
  }

  /** The names of rawHeaders, lowercased: names[i] is rawHeaders[2 * i]'s. */
  get names(): string[] {
    this.strings ??= fieldStrings(this.source, this.lines);
    return this.strings.names;
  }

  private tokens(kind: LineKind): string[] {
    return tokensOfKind(this.source, this.lines, kind);
  }
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

/** The fields of a request the edge acts on: Host and the framing are read, the others not passed on as sent. */
const KINDS = kindTable([
  ['host', LineKind.Host],
  ['content-length', LineKind.ContentLength],
  ['transfer-encoding', LineKind.TransferEncoding],
  ['connection', LineKind.Connection],
  ['upgrade', LineKind.Upgrade],
  ['expect', LineKind.Expect],
  ...[...NOT_FORWARDED_UPSTREAM].map((name): [string, LineKind] => [name, LineKind.Dropped]),
]);

const BAD: RefusedHead = Object.freeze({ refused: 400 });

/**
 * Parses the head `buf[0, end)` (end as headEnd returned it), on its bytes. `lastHost` is the Host
 * of the connection's previous request: when this one's is the same, that string is used again,
 * whose hash the route lookups have already computed.
 */
export function parseRequestHead(buf: Buffer, end: number, lastHost: string | null = null): RequestHead | RefusedHead {
  const line = requestLine(buf, end);
  if (line === null) return BAD;
  const lines = scanLines(buf, line.lineEnd + 2, end - 2, KINDS);
  if (lines === null) return BAD;
  const framing = framingOf(buf, lines);
  if (framing === null) return BAD;
  // RFC 9112 §3.2: an HTTP/1.1 request needs exactly one Host, and no request may carry two.
  let hosts = 0;
  let hostLine = -1;
  let plain = true;
  for (let i = 0; i < lines.count; i++) {
    const kind = lines.kind[i]!;
    if (kind === LineKind.Host) {
      hosts++;
      hostLine = i;
    } else if (kind !== LineKind.Other && kind !== LineKind.ContentLength) plain = false;
  }
  if (hosts > 1 || (line.minor === 1 && hosts === 0)) return BAD;
  const host = hostLine === -1 ? null : hostOf(buf, lines, hostLine, lastHost);
  const { method, url, minor, lineEnd } = line;
  return new RequestHead(method, url, minor, buf, lines, lineEnd + 2, end - 2, plain, host, framing);
}

/** The value of the Host line `i`: `last` when its bytes spell it. */
function hostOf(buf: Buffer, lines: Lines, i: number, last: string | null): string {
  const from = lines.valueStart[i]!;
  if (last !== null && lines.valueEnd[i]! - from === last.length && sameBytes(buf, from, last)) return last;
  return lineValue(buf, lines, i);
}

/**
 * The request line at the start of a head ending at `end`: a method, a space, a target of visible
 * ASCII, a space and `HTTP/1.0` or `HTTP/1.1`; or null. `lineEnd` is where its CRLF is.
 */
function requestLine(buf: Buffer, end: number): { method: string; url: string; minor: 0 | 1; lineEnd: number } | null {
  let lineEnd = 0;
  while (lineEnd < end && (buf[lineEnd] !== 0x0d || buf[lineEnd + 1] !== 0x0a)) lineEnd++;
  let first = -1;
  let last = -1;
  for (let i = 0; i < lineEnd; i++) {
    if (buf[i] !== 0x20) continue;
    if (first === -1) first = i;
    last = i;
  }
  if (first <= 0 || last === first) return null;
  const method = methodOf(buf, first);
  if (method === null || !visibleAscii(buf, first + 1, last)) return null;
  const minor = versionOf(buf, last + 1, lineEnd);
  if (minor === -1) return null;
  // The usual target is taken as the constant rather than made anew.
  const url = last === first + 2 && buf[first + 1] === 0x2f ? '/' : buf.toString('latin1', first + 1, last);
  return { method, url, minor, lineEnd };
}

/** Methods taken from this list rather than made anew when a request line starts with one. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];

/** The method `buf[0, end)`: 1 to 20 uppercase letters, or null. */
function methodOf(buf: Buffer, end: number): string | null {
  if (end > 20) return null;
  for (let i = 0; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x41 || c > 0x5a) return null;
  }
  for (const method of METHODS) if (method.length === end && sameBytes(buf, 0, method)) return method;
  return buf.toString('latin1', 0, end);
}

/** Whether `buf` holds exactly `text` (ASCII) at `from`. */
function sameBytes(buf: Buffer, from: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (buf[from + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** The minor version of `buf[from, to)` when it is exactly `HTTP/1.0` or `HTTP/1.1`, else -1. */
function versionOf(buf: Buffer, from: number, to: number): 0 | 1 | -1 {
  if (to - from !== 8 || !sameBytes(buf, from, 'HTTP/1.')) return -1;
  const minor = buf[from + 7];
  return minor === 0x31 ? 1 : minor === 0x30 ? 0 : -1;
}

/** Whether `buf[from, to)` is one or more visible ASCII characters (no space, control or non-ASCII byte). */
function visibleAscii(buf: Buffer, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}
