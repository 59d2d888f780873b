/**
 * The heads the native engine writes: the request it sends upstream, the visitor's response (the
 * upstream's, rewritten once), and the edge's own answers. Each is one latin1 string, written in
 * one call together with whatever body is at hand.
 */
import { STATUS_TEXTS } from '../status-texts.ts';
import type { OwnAnswer } from '../pages.ts';
import type { VisitorFraming } from './response-body.ts';

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
