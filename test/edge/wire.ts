/**
 * A strict HTTP/1.1 reader for the framing tests: the upstream side reads what the edge forwarded
 * (refusing anything a careful server would refuse: bare CR/LF, obs-fold, CL with TE, a bad chunk
 * size), and the visitor side reads what came back (1xx, HEAD, 204/304, chunked with trailers,
 * close-delimited bodies). Everything is latin1 strings, one character per byte.
 */

/** One parsed message: the start line's parts, headers in order, the de-chunked body. */
export interface WireMessage {
  /** Request: method, target, version. Response: version, status, reason. */
  start: [string, string, string];
  headers: [string, string][];
  body: string;
  trailers: [string, string][];
  chunked: boolean;
}

/** A parse step: a message and the bytes after it, more bytes needed, or why the bytes are malformed. */
export type Parsed =
  | { kind: 'message'; message: WireMessage; rest: string }
  | { kind: 'incomplete'; head?: Omit<WireMessage, 'body' | 'trailers' | 'chunked'> }
  | { kind: 'error'; reason: string };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Every value of a header (name in lowercase) in order. */
export function values(headers: [string, string][], name: string): string[] {
  return headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

/** Reads a head: start line and fields; CRLF only, no obs-fold, token names, no CTLs in values. */
function readHead(text: string): { head: Omit<WireMessage, 'body' | 'trailers' | 'chunked'> } | { reason: string } {
  const lines = text.split('\r\n');
  if (lines.some((l) => l.includes('\r') || l.includes('\n'))) return { reason: 'bare CR or LF in the head' };
  const parts = lines[0]!.split(' ');
  if (parts.length < 3 && !/^HTTP\/1\.[01] \d{3}$/.test(lines[0]!)) return { reason: `bad start line ${lines[0]}` };
  const start: [string, string, string] = [parts[0]!, parts[1]!, parts.slice(2).join(' ')];
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith(' ') || line.startsWith('\t')) return { reason: 'obs-fold' };
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (colon < 1 || !TOKEN.test(name)) return { reason: `bad field name ${JSON.stringify(name)}` };
    if (!FIELD_VALUE.test(value)) return { reason: `control byte in ${name}` };
    headers.push([name, value]);
  }
  return { head: { start, headers } };
}

/** Decodes a chunked body strictly; null when more bytes are needed. */
function readChunked(text: string): { body: string; trailers: [string, string][]; rest: string } | null | string {
  let at = 0;
  let body = '';
  for (;;) {
    const eol = text.indexOf('\r\n', at);
    if (eol === -1) return text.length - at > 1024 ? 'chunk size line too long' : null;
    const sizeText = text.slice(at, eol).split(';')[0]!;
    if (!/^[0-9A-Fa-f]{1,8}$/.test(sizeText)) return `bad chunk size ${JSON.stringify(sizeText)}`;
    const size = Number.parseInt(sizeText, 16);
    at = eol + 2;
    if (size === 0) break;
    if (text.length < at + size + 2) return null;
    if (text.slice(at + size, at + size + 2) !== '\r\n') return 'chunk data not followed by CRLF';
    body += text.slice(at, at + size);
    at += size + 2;
  }
  const end = text.indexOf('\r\n', at) === at ? at : text.indexOf('\r\n\r\n', at);
  if (end === -1) return null;
  const trailerText = end === at ? '' : text.slice(at, end);
  const parsed =
    trailerText === '' ? { head: { start: ['', '', ''], headers: [] } } : readHead(`x x x\r\n${trailerText}`);
  if ('reason' in parsed) return parsed.reason;
  return { body, trailers: parsed.head.headers, rest: text.slice(end + (end === at ? 2 : 4)) };
}

/** How the body after a head is framed: chunked, a length, or (for responses) until close. */
function framing(headers: [string, string][]): { chunked: true } | { length: number | null } | { reason: string } {
  const te = values(headers, 'transfer-encoding');
  const cl = values(headers, 'content-length');
  if (te.length > 0 && cl.length > 0) return { reason: 'both Content-Length and Transfer-Encoding' };
  const codings = te.flatMap((v) => v.split(',')).map((c) => c.trim().toLowerCase());
  if (te.length > 0 && (codings.at(-1) !== 'chunked' || codings.indexOf('chunked') < codings.length - 1)) {
    return { reason: `Transfer-Encoding ${te.join(', ')}` };
  }
  if (te.length > 0) return { chunked: true };
  if (cl.length > 1) return { reason: 'more than one Content-Length' };
  if (cl.length === 1 && !/^\d{1,15}$/.test(cl[0]!)) return { reason: `Content-Length ${cl[0]}` };
  return { length: cl.length === 1 ? Number(cl[0]) : null };
}

/** Parses the next request at the start of `text`, as a strict origin server would. */
export function parseRequest(text: string): Parsed {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return text.length > 65_536 ? { kind: 'error', reason: 'head too long' } : { kind: 'incomplete' };
  const read = readHead(text.slice(0, end));
  if ('reason' in read) return { kind: 'error', reason: read.reason };
  return readBody(read.head, text.slice(end + 4), 0);
}

/** Parses the next response; `method` is the request's, `closed` whether the connection has ended. */
export function parseResponse(text: string, method: string, closed: boolean): Parsed {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return closed && text !== '' ? { kind: 'error', reason: 'truncated head' } : { kind: 'incomplete' };
  const read = readHead(text.slice(0, end));
  if ('reason' in read) return { kind: 'error', reason: read.reason };
  const status = Number(read.head.start[1]);
  const rest = text.slice(end + 4);
  if (status < 200 || status === 204 || status === 304 || method === 'HEAD') {
    return { kind: 'message', message: { ...read.head, body: '', trailers: [], chunked: false }, rest };
  }
  return readBody(read.head, rest, closed ? 1 : -1);
}

/** The body after a head; `untilClose` is 0 for requests (no body without framing), 1 closed, -1 open. */
function readBody(head: Omit<WireMessage, 'body' | 'trailers' | 'chunked'>, rest: string, untilClose: number): Parsed {
  const frame = framing(head.headers);
  if ('reason' in frame) return { kind: 'error', reason: frame.reason };
  if ('chunked' in frame) {
    const chunked = readChunked(rest);
    if (typeof chunked === 'string') return { kind: 'error', reason: chunked };
    if (chunked === null) return { kind: 'incomplete', head };
    return { kind: 'message', message: { ...head, ...chunked, chunked: true }, rest: chunked.rest };
  }
  const length = frame.length ?? (untilClose === 0 ? 0 : untilClose === 1 ? rest.length : null);
  if (length === null || rest.length < length) return { kind: 'incomplete', head };
  const message = { ...head, body: rest.slice(0, length), trailers: [], chunked: false };
  return { kind: 'message', message, rest: rest.slice(length) };
}

/** Every response in `text`, given the methods of the requests sent; interim (1xx) ones included. */
export function parseResponses(
  text: string,
  methods: string[],
  closed: boolean,
): { messages: WireMessage[]; error?: string } {
  const messages: WireMessage[] = [];
  let rest = text;
  let index = 0;
  while (rest !== '') {
    const parsed = parseResponse(rest, methods[index] ?? 'GET', closed);
    if (parsed.kind === 'error') return { messages, error: parsed.reason };
    if (parsed.kind === 'incomplete') return { messages, ...(closed ? { error: 'truncated' } : {}) };
    messages.push(parsed.message);
    if (Number(parsed.message.start[1]) >= 200) index += 1;
    rest = parsed.rest;
  }
  return { messages };
}
