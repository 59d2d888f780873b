/**
 * An upstream's response head, parsed as strictly as a visitor's request (head-lines.ts): an
 * upstream is a tenant's code, and a response the edge cannot frame unambiguously must not reach a
 * visitor or leave a pooled connection in an unknown state. Such a response is a 502. The head is
 * read on its bytes; only what the edge acts on (framing, Connection) is made into strings, and
 * the visitor's head is copied from the bytes (wire.ts).
 */
import { HOP_BY_HOP } from '../headers.ts';
import {
  type BodyFraming,
  fieldStrings,
  framingOf,
  kindTable,
  LineKind,
  type Lines,
  scanLines,
  tokensOfKind,
  VALUE,
} from './head-lines.ts';

/** Most bytes of a response head the edge reads. */
export const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** The fields of a response the edge acts on: the framing, Connection and Date are read, other hop-by-hop ones dropped. */
const KINDS = kindTable([
  ['connection', LineKind.Connection],
  ['transfer-encoding', LineKind.TransferEncoding],
  ['content-length', LineKind.ContentLength],
  ['date', LineKind.Date],
  ...[...HOP_BY_HOP].map((name): [string, LineKind] => [name, LineKind.Dropped]),
]);

/** A response head that passed. */
export class ResponseHead {
  private strings: { raw: string[]; names: string[] } | null = null;

  constructor(
    /** The bytes the head was parsed from. */
    private readonly src: Buffer,
    /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
    readonly minor: 0 | 1,
    readonly status: number,
    /** The reason phrase as sent (possibly empty). */
    readonly reason: string,
    /** The header lines as scanned. */
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

  /** The fields as a raw list (names as sent, values without surrounding whitespace), made when first asked for. */
  get rawHeaders(): string[] {
    this.strings ??= fieldStrings(this.src, this.lines);
    return this.strings.raw;
  }

  /** The names of rawHeaders, lowercased: names[i] is rawHeaders[2 * i]'s. */
  get names(): string[] {
    this.strings ??= fieldStrings(this.src, this.lines);
    return this.strings.names;
  }
}

/** Parses the head `buf[0, end)`, where `end` is the index after its CRLF CRLF; null when it is malformed. */
export function parseResponseHead(buf: Buffer, end: number): ResponseHead | null {
  const line = statusLine(buf, end);
  if (line === null) return null;
  const lines = scanLines(buf, line.lineEnd + 2, end - 2, KINDS);
  if (lines === null) return null;
  const framing = framingOf(buf, lines);
  if (framing === null) return null;
  const connection = tokensOfKind(buf, lines, LineKind.Connection);
  const keepAlive = line.minor === 1 ? !connection.includes('close') : connection.includes('keep-alive');
  return new ResponseHead(buf, line.minor, line.status, line.reason, lines, connection, framing, keepAlive);
}

/**
 * The status line at the start of a head ending at `end`: `HTTP/1.0` or `HTTP/1.1`, a space, three
 * digits (the first not 0) and, after a space, a reason of visible characters, obs-text, spaces
 * and tabs; or null. `lineEnd` is where its CRLF is.
 */
function statusLine(
  buf: Buffer,
  end: number,
): { minor: 0 | 1; status: number; reason: string; lineEnd: number } | null {
  let lineEnd = 0;
  while (lineEnd < end && (buf[lineEnd] !== 0x0d || buf[lineEnd + 1] !== 0x0a)) lineEnd++;
  if (lineEnd >= end || lineEnd < 12 || !startsWithHttp1(buf) || buf[8] !== 0x20) return null;
  const minor = buf[7]! - 0x30;
  if (minor !== 0 && minor !== 1) return null;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const digit = buf[i]! - 0x30;
    if (digit < 0 || digit > 9 || (i === 9 && digit === 0)) return null;
    status = status * 10 + digit;
  }
  if (lineEnd === 12) return { minor, status, reason: '', lineEnd };
  if (buf[12] !== 0x20) return null;
  for (let i = 13; i < lineEnd; i++) if (VALUE[buf[i]!] !== 1) return null;
  // The usual reason is taken as the constant rather than made anew.
  const reason = lineEnd === 15 && buf[13] === 0x4f && buf[14] === 0x4b ? 'OK' : buf.toString('latin1', 13, lineEnd);
  return { minor, status, reason, lineEnd };
}

const HTTP1 = Buffer.from('HTTP/1.', 'latin1');

/** Whether `buf` starts with `HTTP/1.`. */
function startsWithHttp1(buf: Buffer): boolean {
  for (let i = 0; i < HTTP1.length; i++) if (buf[i] !== HTTP1[i]) return false;
  return true;
}
