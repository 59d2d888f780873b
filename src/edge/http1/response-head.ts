/**
 * An upstream's response head, parsed as strictly as a visitor's request (fields.ts): an upstream
 * is a tenant's code, and a response the edge cannot frame unambiguously must not reach a visitor
 * or leave a pooled connection in an unknown state. Such a response is a 502.
 */
import { type Framing, framingOf, isValueChar, parseFields, sameChars, tokensOf } from './fields.ts';

/** Most bytes of a response head the edge reads. */
export const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** A response head that passed. */
export interface ResponseHead {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: 0 | 1;
  status: number;
  /** The reason phrase as sent (possibly empty). */
  reason: string;
  rawHeaders: string[];
  /** The names of rawHeaders, lowercased: names[i] is rawHeaders[2 * i]'s. */
  names: string[];
  /** The tokens of its Connection fields, lowercased. */
  connection: string[];
  framing: Exclude<Framing, { kind: 'invalid' }>;
  /** Whether the upstream keeps the connection open after this response. */
  keepAlive: boolean;
  /**
   * Where each header line starts in the head's bytes, then where the last line's CRLF ends (the
   * status line's CRLF when there are none): the bytes of line i are [starts[i], starts[i + 1]).
   */
  starts: number[];
}

/** Parses the head `buf[0, end)`, where `end` is the index after its CRLF CRLF; null when it is malformed. */
export function parseResponseHead(buf: Buffer, end: number): ResponseHead | null {
  // A bare CR or LF cannot pass: the status line and field grammars refuse both.
  const head = buf.toString('latin1', 0, end - 4);
  const lineEnd = head.indexOf('\r\n');
  const line = statusLine(head, lineEnd === -1 ? head.length : lineEnd);
  if (!line) return null;
  const names: string[] = [];
  const starts: number[] = [];
  const rawHeaders = lineEnd === -1 ? [] : parseFields(head, lineEnd + 2, names, starts);
  if (rawHeaders === null) return null;
  if (lineEnd === -1) starts.push(head.length + 2);
  const framing = framingOf(rawHeaders, names);
  if (framing.kind === 'invalid') return null;
  const connection = tokensOf(rawHeaders, 'connection', names);
  const keepAlive = line.minor === 1 ? !connection.includes('close') : connection.includes('keep-alive');
  const { minor, status, reason } = line;
  return { minor, status, reason, rawHeaders, names, connection, framing, keepAlive, starts };
}

/**
 * The status line `head[0, end)`: `HTTP/1.0` or `HTTP/1.1`, a space, three digits (the first not 0)
 * and, after a space, a reason of visible characters, obs-text, spaces and tabs; or null.
 */
function statusLine(head: string, end: number): { minor: 0 | 1; status: number; reason: string } | null {
  if (end < 12 || !head.startsWith('HTTP/1.') || head.charCodeAt(8) !== 0x20) return null;
  const minor = head.charCodeAt(7) - 0x30;
  if (minor !== 0 && minor !== 1) return null;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const digit = head.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9 || (i === 9 && digit === 0)) return null;
    status = status * 10 + digit;
  }
  if (end === 12) return { minor, status, reason: '' };
  if (head.charCodeAt(12) !== 0x20) return null;
  for (let i = 13; i < end; i++) if (!isValueChar(head.charCodeAt(i))) return null;
  // The usual reason is taken as the constant rather than made anew.
  const reason = end === 15 && sameChars(head, 13, 'OK') ? 'OK' : head.slice(13, end);
  return { minor, status, reason };
}
