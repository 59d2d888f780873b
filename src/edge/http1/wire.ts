/**
 * The heads the native engine writes: the request it sends upstream, the visitor's response (the
 * upstream's, rewritten once), and the edge's own answers, as latin1 strings or, for the visitor's
 * response, copied from the upstream's bytes (writeVisitorHead); each written in one call together
 * with whatever body is at hand.
 */
import { keptForVisitor, ownLines, replacedBy } from '../headers.ts';
import { STATUS_TEXTS } from '../status-texts.ts';
import { copyInto, writeLatin1 } from './bytes.ts';
import type { OwnAnswer } from '../pages.ts';
import type { VisitorFraming } from './response-body.ts';
import type { ResponseHead } from './response-head.ts';
import { LineKind } from './head-lines.ts';

let dateSecond = 0;
let dateValue = '';

/** The Date header's value, computed once per second. */
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(second * 1000).toUTCString();
  }
  return dateValue;
}

let dateLine = { value: '', bytes: Buffer.alloc(0) };

/** The Date line and the blank line ending a head, as bytes, made once per second. */
function lastDateLine(): Buffer {
  const value = httpDate();
  if (dateLine.value !== value) dateLine = { value, bytes: Buffer.from(`date: ${value}\r\n\r\n`, 'latin1') };
  return dateLine.bytes;
}

/** Appends a raw list as header lines; notes whether it has a Date. */
function lines(raw: readonly string[]): { text: string; hasDate: boolean } {
  let text = '';
  let hasDate = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'date') hasDate = true;
    text += `${name}: ${raw[i + 1]}\r\n`;
  }
  return { text, hasDate };
}

/** The request line and headers for the upstream; `chunked` adds the framing of a chunked body. */
export function upstreamHead(method: string, url: string, headers: readonly string[], chunked: boolean): string {
  const { text } = lines(headers);
  return `${method} ${url} HTTP/1.1\r\n${text}${chunked ? 'transfer-encoding: chunked\r\n' : ''}\r\n`;
}

/**
 * The visitor's response head: the status line as the upstream sent it, the header `lines`
 * (visitorResponseLines), framing, Date and Connection.
 */
export function visitorHead(
  status: number,
  reason: string,
  lines: { text: string; hasDate: boolean },
  framing: VisitorFraming,
  close: boolean,
): string {
  const { text, hasDate } = lines;
  let head = `HTTP/1.1 ${status} ${reason || STATUS_TEXTS[status] || ''}\r\n${text}`;
  if (framing === 'chunked' || framing === 'rechunked') head += 'transfer-encoding: chunked\r\n';
  if (!hasDate) head += `date: ${httpDate()}\r\n`;
  if (close) head += 'connection: close\r\n';
  return `${head}\r\n`;
}

/**
 * Writes the visitor's response head into `out` from `src`, the bytes `head` was parsed from:
 * the same bytes visitorHead would make, but the status line and every header line already in
 * the form the edge writes (`Name: value`, HTTP/1.1) are copied as runs of bytes, and the others
 * rewritten from their bytes, rather than made into strings. Returns the length written, or -1
 * when it might not fit in `room` bytes of `out`.
 */
export function writeVisitorHead(
  out: Buffer,
  room: number,
  src: Buffer,
  head: ResponseHead,
  own: readonly string[],
  framing: VisitorFraming,
  close: boolean,
): number {
  const { lines } = head;
  const { starts } = lines;
  const extra = ownLines(own);
  if (visitorHeadBound(head, own) > room) return -1;
  let at = 0;
  let run = 0; // the start of the run of source bytes not yet copied
  if (head.minor !== 1 || head.reason === '') {
    at = writeLatin1(out, 0, `HTTP/1.1 ${head.status} ${head.reason || STATUS_TEXTS[head.status] || ''}\r\n`);
    run = starts[0]!;
  }
  // Which fields pass needs their names only when the edge replaces some or Connection names any.
  const byName = own.length > 0 || head.connection.some((token) => token !== 'keep-alive');
  const replaced = replacedBy(own);
  let hasDate = extra.hasDate;
  for (let i = 0; i < lines.count; i++) {
    const kind = lines.kind[i]!;
    const kept = passes(kind) && (!byName || keptForVisitor(head.names[i]!, replaced, head.connection));
    if (kept && kind === LineKind.Date) hasDate = true;
    const from = starts[i]!;
    const to = starts[i + 1]!;
    const colon = lines.colon[i]!;
    const valueStart = lines.valueStart[i]!;
    const valueEnd = lines.valueEnd[i]!;
    // As sent: one space after the colon, no other whitespace around the value.
    const asSent = to - from === colon - from + valueEnd - valueStart + 4 && src[colon + 1] === 0x20;
    if (kept && asSent) continue;
    at += copyInto(out, at, src, run, from);
    run = to;
    if (kept) at += writeLine(out, at, src, colon - from, from, valueStart, valueEnd);
  }
  at += copyInto(out, at, src, run, starts[starts.length - 1]!);
  return at + writeTail(out, at, extra.text, framing, hasDate, close);
}

/** Writes the line `Name: value` CRLF from the name's `nameLength` bytes at `from` and the value's; returns its length. */
function writeLine(
  out: Buffer,
  at: number,
  src: Buffer,
  nameLength: number,
  from: number,
  valueStart: number,
  valueEnd: number,
): number {
  let n = copyInto(out, at, src, from, from + nameLength);
  out[at + n++] = 0x3a;
  out[at + n++] = 0x20;
  n += copyInto(out, at + n, src, valueStart, valueEnd);
  out[at + n++] = 0x0d;
  out[at + n++] = 0x0a;
  return n;
}

/** Writes the lines the edge adds after the upstream's (`own` ones, framing, Date, Connection) and the blank line. */
function writeTail(
  out: Buffer,
  at: number,
  own: string,
  framing: VisitorFraming,
  hasDate: boolean,
  close: boolean,
): number {
  const chunked = framing === 'chunked' || framing === 'rechunked';
  if (own === '' && !chunked && !hasDate && !close) return lastDateLine().copy(out, at);
  let tail = own;
  if (chunked) tail += 'transfer-encoding: chunked\r\n';
  if (!hasDate) tail += `date: ${httpDate()}\r\n`;
  if (close) tail += 'connection: close\r\n';
  return writeLatin1(out, at, `${tail}\r\n`);
}

/** Whether a field of `kind` may reach the visitor at all: hop-by-hop fields never do. */
function passes(kind: LineKind): boolean {
  return kind === LineKind.Other || kind === LineKind.ContentLength || kind === LineKind.Date;
}

/**
 * The most bytes writeVisitorHead may write for `head`: its own, a rewritten status line, a space
 * added to each header line, and the lines the edge adds at the end.
 */
export function visitorHeadBound(head: ResponseHead, own: readonly string[]): number {
  return head.starts[head.starts.length - 1]! + 64 + head.lines.count + ownLines(own).text.length + 96;
}

/** One of the edge's own answers, whole, with `extra` headers (a raw list). */
export function answerBytes(answer: OwnAnswer, extra: readonly string[], close: boolean): string {
  const own: string[] = [];
  for (const name in answer.headers) own.push(name, answer.headers[name]!);
  const { text } = lines([...own, ...extra]);
  const status = `HTTP/1.1 ${answer.status} ${STATUS_TEXTS[answer.status] ?? ''}\r\n`;
  return `${status}${text}date: ${httpDate()}\r\n${close ? 'connection: close\r\n' : ''}\r\n${answer.body}`;
}

/** The interim response that invites a waiting visitor to send its body. */
export const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
