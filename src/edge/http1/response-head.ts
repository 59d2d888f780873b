/**
 * An upstream's response head, parsed as strictly as a visitor's request (fields.ts): an upstream
 * is a tenant's code, and a response the edge cannot frame unambiguously must not reach a visitor
 * or leave a pooled connection in an unknown state. Such a response is a 502.
 */
import { type Framing, framingOf, parseFields, tokensOf } from './fields.ts';

/** Most bytes of a response head the edge reads. */
export const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** A response head that passed. */
export interface ResponseHead {
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
}

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

/** Parses the head `buf[0, end)`, where `end` is the index after its CRLF CRLF; null when it is malformed. */
export function parseResponseHead(buf: Buffer, end: number): ResponseHead | null {
  // A bare CR or LF cannot pass: the status line and field grammars refuse both.
  const head = buf.toString('latin1', 0, end - 4);
  const lineEnd = head.indexOf('\r\n');
  const match = STATUS_LINE.exec(lineEnd === -1 ? head : head.slice(0, lineEnd));
  if (!match) return null;
  const names: string[] = [];
  const rawHeaders = lineEnd === -1 ? [] : parseFields(head, lineEnd + 2, names);
  if (rawHeaders === null) return null;
  const framing = framingOf(rawHeaders, names);
  if (framing.kind === 'invalid') return null;
  const connection = tokensOf(rawHeaders, 'connection', names);
  const keepAlive = match[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
  return { status: Number(match[2]), reason: match[3] ?? '', rawHeaders, names, connection, framing, keepAlive };
}
