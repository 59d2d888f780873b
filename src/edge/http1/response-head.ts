/**
 * An upstream's response head, parsed as strictly as a visitor's request (fields.ts): an upstream
 * is a tenant's code, and a response the edge cannot frame unambiguously must not reach a visitor
 * or leave a pooled connection in an unknown state. Such a response is a 502.
 *
 * The head is read once, on its bytes (response-lines.ts): every byte is checked against the same
 * grammar, but only what the edge acts on is made into strings (the framing and Connection
 * fields). The names and values of the other fields stay in the bytes until someone asks for them
 * (rawHeaders, names); the visitor's head is copied from the bytes (wire.ts). Parsing made a
 * string of every name and value of every response, which cost more than the rest of an
 * exchange's JavaScript together.
 */
import type { Framing } from './fields.ts';
import { LineKind, type Lines, scanLines, statusOf } from './response-lines.ts';

/** Most bytes of a response head the edge reads. */
export const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** A response head that passed. */
export class ResponseHead {
  /** The raw list and lowercased names, once asked for. */
  private raw: string[] | null = null;
  private lower: string[] | null = null;

  constructor(
    /** The bytes the head was parsed from; the head is [0, end). */
    private readonly src: Buffer,
    /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
    readonly minor: 0 | 1,
    readonly status: number,
    /** The reason phrase as sent (possibly empty). */
    readonly reason: string,
    /** The header lines as scanned (response-lines.ts). */
    readonly lines: Lines,
    /** The tokens of its Connection fields, lowercased. */
    readonly connection: string[],
    readonly framing: BodyFraming,
    /** Whether the upstream keeps the connection open after this response. */
    readonly keepAlive: boolean,
  ) {}

  /**
   * Where each header line starts in the head's bytes, then where the last line's CRLF ends (the
   * status line's CRLF when there are none): the bytes of line i are [starts[i], starts[i + 1]).
   */
  get starts(): number[] {
    return this.lines.starts;
  }

  /** The fields as a raw list (name as sent, value without surrounding whitespace). */
  get rawHeaders(): string[] {
    if (this.raw === null) this.strings();
    return this.raw!;
  }

  /** The names of rawHeaders, lowercased: names[i] is rawHeaders[2 * i]'s. */
  get names(): string[] {
    if (this.lower === null) this.strings();
    return this.lower!;
  }

  private strings(): void {
    const { src, lines } = this;
    const raw: string[] = [];
    const lower: string[] = [];
    for (let i = 0; i < lines.count; i++) {
      const name = src.toString('latin1', lines.starts[i]!, lines.colon[i]!);
      raw.push(name, src.toString('latin1', lines.valueStart[i]!, lines.valueEnd[i]!));
      lower.push(name.toLowerCase());
    }
    this.raw = raw;
    this.lower = lower;
  }
}

/** Parses the head `buf[0, end)`, where `end` is the index after its CRLF CRLF; null when it is malformed. */
export function parseResponseHead(buf: Buffer, end: number): ResponseHead | null {
  const status = statusOf(buf, end);
  if (status === null) return null;
  const lines = scanLines(buf, status.lineEnd + 2, end - 2);
  if (lines === null) return null;
  const framing = framingOf(buf, lines);
  if (framing === null) return null;
  const connection = connectionTokens(buf, lines);
  const keepAlive = status.minor === 1 ? !connection.includes('close') : connection.includes('keep-alive');
  return new ResponseHead(buf, status.minor, status.status, status.reason, lines, connection, framing, keepAlive);
}

type BodyFraming = Exclude<Framing, { kind: 'invalid' }>;

const NO_BODY: BodyFraming = Object.freeze({ kind: 'none' });
const CHUNKED: BodyFraming = Object.freeze({ kind: 'chunked' });

/**
 * The framing the fields announce (RFC 9112 §6), as fields.ts's framingOf reads it: chunked when
 * the last transfer coding is chunked and no other is; a single Content-Length of 1 to 15 digits;
 * null (malformed) for both at once, two Content-Length lines, or another last coding.
 */
function framingOf(buf: Buffer, lines: Lines): BodyFraming | null {
  let length = -1;
  let codings: string[] | undefined;
  for (let i = 0; i < lines.count; i++) {
    const kind = lines.kind[i]!;
    if (kind === LineKind.ContentLength) {
      if (length !== -1) return null;
      length = digitsAt(buf, lines.valueStart[i]!, lines.valueEnd[i]!);
      if (length === -1) return null;
    } else if (kind === LineKind.TransferEncoding) {
      codings ??= [];
      const value = buf.toString('latin1', lines.valueStart[i]!, lines.valueEnd[i]!);
      for (const t of value.split(',')) codings.push(t.trim().toLowerCase());
    }
  }
  if (codings !== undefined) {
    if (length !== -1 || codings.indexOf('chunked') !== codings.length - 1) return null;
    return CHUNKED;
  }
  return length === -1 ? NO_BODY : { kind: 'length', length };
}

/** The number `buf[from, to)` spells in 1 to 15 ASCII digits, or -1. */
function digitsAt(buf: Buffer, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const digit = buf[i]! - 0x30;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/** The lowercased comma-separated tokens of the Connection lines (a lone `keep-alive` or `close` made no string). */
function connectionTokens(buf: Buffer, lines: Lines): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.count; i++) {
    if (lines.kind[i] !== LineKind.Connection) continue;
    const from = lines.valueStart[i]!;
    const to = lines.valueEnd[i]!;
    if (sameLetters(buf, from, to, 'keep-alive')) out.push('keep-alive');
    else if (sameLetters(buf, from, to, 'close')) out.push('close');
    else {
      for (const t of buf.toString('latin1', from, to).split(',')) {
        const token = t.trim().toLowerCase();
        if (token !== '') out.push(token);
      }
    }
  }
  return out;
}

/** Whether `buf[from, to)` is `lower` (lowercase letters and hyphens) whatever the case of its letters. */
export function sameLetters(buf: Uint8Array, from: number, to: number, lower: string): boolean {
  if (to - from !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((buf[from + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}
