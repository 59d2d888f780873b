/**
 * The reference grammar of header sections, read from strings as RFC 9112 §5 and llhttp's strict
 * mode read them: every line ends in CRLF (a bare CR or LF is refused), a name is a token followed
 * at once by a colon (no space before it), a value holds visible characters, obs-text, spaces and
 * tabs only, and a line that starts with whitespace (obs-fold) is refused. Names and values are
 * kept as sent (latin1), in order, as node:http's raw lists are. The edge reads heads on their
 * bytes (src/edge/http1/head-lines.ts); this parser, the edge's own before that, is what the byte
 * reader is checked against.
 */
import { type Framing, isTokenChar, isValueChar } from '../../../src/edge/http1/fields.ts';

/**
 * Parses the header lines of `head` from `from` to its end (the head without its final CRLF CRLF,
 * so each line but the last is followed by CRLF). Returns the raw list, or null when a line breaks
 * the grammar. `names` gets each name lowercased, once, for the lookups that follow; `starts`,
 * when given, where each line starts and, last, where the last line's CRLF ends. A common name
 * sent in lowercase or capitalised (`content-length`, `Content-Length`) is taken from a table
 * rather than made anew, and each line is read in one pass (its end found as its value is checked).
 */
export function parseFields(head: string, from: number, names: string[] = [], starts?: number[]): string[] | null {
  const raw: string[] = [];
  let at = from;
  const end = head.length;
  while (at < end) {
    starts?.push(at);
    const colon = fieldName(head, at);
    if (colon === -1) return null;
    const eol = fieldValue(head, colon + 1, end);
    if (eol === -1) return null;
    pushName(head, at, colon, raw, names);
    raw.push(valueStart < valueEnd ? head.slice(valueStart, valueEnd) : '');
    at = eol + 2;
  }
  starts?.push(end + 2);
  return raw;
}

/** Adds the name `head[from, to)` (as fieldName last read it) to `raw` as sent and to `names` lowercased. */
function pushName(head: string, from: number, to: number, raw: string[], names: string[]): void {
  const known = nameHadUpper ? knownName(head, from, to) : knownLowercase(head, from, to);
  if (known === -1) {
    const name = head.slice(from, to);
    raw.push(name);
    names.push(nameHadUpper ? name.toLowerCase() : name);
    return;
  }
  const lower = KNOWN[known]!;
  const capitalised = CAPITALISED[known]!;
  if (!nameHadUpper) raw.push(lower);
  else raw.push(sameChars(head, from, capitalised) ? capitalised : head.slice(from, to));
  names.push(lower);
}

/** Whether the name fieldName last read had an uppercase letter. */
let nameHadUpper = false;
/** Where the value fieldValue last read starts and ends, without surrounding whitespace. */
let valueStart = 0;
let valueEnd = 0;

/** The index of the colon ending a field name that starts at `at`, or -1. */
function fieldName(head: string, at: number): number {
  let i = at;
  let upper = false;
  for (let c = head.charCodeAt(i); isTokenChar(c); c = head.charCodeAt(++i)) upper ||= c >= 0x41 && c <= 0x5a;
  nameHadUpper = upper;
  return i > at && head.charCodeAt(i) === 0x3a ? i : -1;
}

/**
 * Reads the value from `from`: its characters up to the CRLF ending its line (or `end`) must all be
 * value characters (a bare CR or LF is not one). Returns where the line ends (its CR, or `end`), or
 * -1; sets valueStart and valueEnd.
 */
function fieldValue(head: string, from: number, end: number): number {
  let first = -1;
  let last = -1;
  let i = from;
  for (; i < end; i++) {
    const c = head.charCodeAt(i);
    if (!isValueChar(c)) break;
    if (c !== 0x20 && c !== 0x09) {
      if (first === -1) first = i;
      last = i;
    }
  }
  if (i < end && (head.charCodeAt(i) !== 0x0d || head.charCodeAt(i + 1) !== 0x0a)) return -1;
  valueStart = first === -1 ? from : first;
  valueEnd = first === -1 ? from : last + 1;
  return i;
}

/** Common field names, lowercase; CAPITALISED holds each as usually sent (`Content-Length`). */
const KNOWN = [
  'host',
  'date',
  'server',
  'accept',
  'connection',
  'user-agent',
  'content-type',
  'content-length',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'last-modified',
  'etag',
  'vary',
  'location',
  'set-cookie',
  'cookie',
  'referer',
  'origin',
  'authorization',
  'content-encoding',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'expires',
  'accept-ranges',
  'x-powered-by',
];
const CAPITALISED = KNOWN.map((name) =>
  name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase()),
);
CAPITALISED[KNOWN.indexOf('etag')] = 'ETag';

/** Indexes into KNOWN by name length. */
const BY_LENGTH: number[][] = [];
for (let i = 0; i < KNOWN.length; i++) (BY_LENGTH[KNOWN[i]!.length] ??= []).push(i);

/** The index in KNOWN of the name `head[from, to)`, whatever the case of its letters, or -1. */
function knownName(head: string, from: number, to: number): number {
  const candidates = BY_LENGTH[to - from];
  if (candidates) for (const k of candidates) if (sameLetters(head, from, KNOWN[k]!)) return k;
  return -1;
}

/** The index in KNOWN of the lowercase name `head[from, to)`, or -1. */
function knownLowercase(head: string, from: number, to: number): number {
  const candidates = BY_LENGTH[to - from];
  if (candidates) for (const k of candidates) if (sameChars(head, from, KNOWN[k]!)) return k;
  return -1;
}

/** Whether the token at `head[from]` equals lowercase `lower` but for the case of its ASCII letters. */
function sameLetters(head: string, from: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = head.charCodeAt(from + i);
    if ((c >= 0x41 && c <= 0x5a ? c + 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Whether `head` holds exactly `text` at `from`. */
export function sameChars(head: string, from: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (head.charCodeAt(from + i) !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * The comma-separated tokens of every `name` line (lowercase name) in a raw list, lowercased;
 * `names` are the raw list's names lowercased (parseFields), when at hand.
 */
export function tokensOf(raw: readonly string[], name: string, names?: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (names ? names[i >> 1] !== name : raw[i]!.length !== name.length || raw[i]!.toLowerCase() !== name) continue;
    const value = raw[i + 1]!;
    if (!value.includes(',')) {
      // One token, as nearly always ("keep-alive", "close"): no split.
      const token = value.trim().toLowerCase();
      if (token !== '') out.push(token);
      continue;
    }
    for (const t of value.split(',')) {
      const token = t.trim().toLowerCase();
      if (token !== '') out.push(token);
    }
  }
  return out;
}

const NO_BODY: Framing = Object.freeze({ kind: 'none' });

/**
 * The framing the headers announce (RFC 9112 §6): chunked when the last transfer coding is
 * chunked; a single Content-Length of digits; invalid when both are present, when there are two
 * Content-Length lines, or when a coding other than chunked comes last.
 */
export function framingOf(raw: readonly string[], names?: readonly string[]): Framing {
  let length: string | undefined;
  let codings: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = names ? names[i >> 1]! : raw[i]!.toLowerCase();
    if (name === 'content-length') {
      if (length !== undefined) return { kind: 'invalid' };
      length = raw[i + 1]!;
    } else if (name === 'transfer-encoding') {
      codings ??= [];
      codings.push(...raw[i + 1]!.split(',').map((t) => t.trim().toLowerCase()));
    }
  }
  if (codings !== undefined) {
    if (length !== undefined || codings.at(-1) !== 'chunked') return { kind: 'invalid' };
    if (codings.indexOf('chunked') !== codings.length - 1) return { kind: 'invalid' };
    return { kind: 'chunked' };
  }
  if (length === undefined) return NO_BODY;
  if (!digits(length, 15)) return { kind: 'invalid' };
  return { kind: 'length', length: Number(length) };
}

/** Whether `s` is 1 to `most` ASCII digits. */
function digits(s: string, most: number): boolean {
  if (s.length === 0 || s.length > most) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
