/**
 * The header section of an HTTP/1.1 message, parsed strictly as RFC 9112 §5 and llhttp's strict
 * mode read it: every line ends in CRLF (a bare CR or LF is refused), a name is a token followed
 * at once by a colon (no space before it), a value holds visible characters, obs-text, spaces and
 * tabs only, and a line that starts with whitespace (obs-fold) is refused. Names and values are
 * kept as sent (latin1), in order, as node:http's raw lists are.
 */

/** tchar of RFC 9110 §5.6.2, by char code. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;

/** Whether char code `c` may appear in a token. */
export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

/** Whether char code `c` may appear in a field value (VCHAR, obs-text, SP, HTAB). */
export function isValueChar(c: number): boolean {
  return (c >= 0x20 && c !== 0x7f && c <= 0xff) || c === 0x09;
}

/**
 * Parses the header lines of `head` from `from` to its end (the head without its final CRLF CRLF,
 * so each line but the last is followed by CRLF). Returns the raw list, or null when a line breaks
 * the grammar. `names` gets each name lowercased, once, for the lookups that follow; `starts`,
 * when given, where each line starts and, last, where the last line's CRLF ends.
 */
export function parseFields(head: string, from: number, names: string[] = [], starts?: number[]): string[] | null {
  const raw: string[] = [];
  let at = from;
  const end = head.length;
  while (at < end) {
    starts?.push(at);
    let eol = head.indexOf('\r\n', at);
    if (eol === -1) eol = end;
    const colon = fieldName(head, at, eol);
    if (colon === -1) return null;
    const value = fieldValue(head, colon + 1, eol);
    if (value === null) return null;
    const name = head.slice(at, colon);
    raw.push(name, value);
    names.push(nameHadUpper ? lowercased(head, at, colon) : name);
    at = eol + 2;
  }
  starts?.push(end + 2);
  return raw;
}

/** Whether the name fieldName last read had an uppercase letter. */
let nameHadUpper = false;

/** The index of the colon ending a field name that starts at `at`, or -1. */
function fieldName(head: string, at: number, eol: number): number {
  let i = at;
  let upper = false;
  for (let c = head.charCodeAt(i); i < eol && isTokenChar(c); c = head.charCodeAt(++i))
    upper ||= c >= 0x41 && c <= 0x5a;
  nameHadUpper = upper;
  return i > at && i < eol && head.charCodeAt(i) === 0x3a ? i : -1;
}

/** Common field names, lowercase, by length: a capitalised one is matched rather than lowercased anew. */
const COMMON: string[][] = [];
for (const name of [
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
]) {
  (COMMON[name.length] ??= []).push(name);
}

/** The name `head[from, to)` lowercased: a common name as its constant, any other made by toLowerCase. */
function lowercased(head: string, from: number, to: number): string {
  const candidates = COMMON[to - from];
  if (candidates) for (const candidate of candidates) if (sameLetters(head, from, candidate)) return candidate;
  return head.slice(from, to).toLowerCase();
}

/** Whether the token at `head[from]` equals lowercase `lower` but for the case of its ASCII letters. */
function sameLetters(head: string, from: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = head.charCodeAt(from + i);
    if ((c >= 0x41 && c <= 0x5a ? c + 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** The value between `from` and `eol` without surrounding whitespace, or null when it holds a forbidden character. */
function fieldValue(head: string, from: number, eol: number): string | null {
  let start = from;
  let stop = eol;
  for (let i = from; i < eol; i++) if (!isValueChar(head.charCodeAt(i))) return null;
  while (start < stop && isBlank(head.charCodeAt(start))) start++;
  while (stop > start && isBlank(head.charCodeAt(stop - 1))) stop--;
  return head.slice(start, stop);
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Whether a bare CR or LF occurs in `head` (every CR must be followed by LF, every LF preceded by CR). */
export function hasBareLineBreak(head: string): boolean {
  let i = head.indexOf('\n');
  while (i !== -1) {
    if (i === 0 || head.charCodeAt(i - 1) !== 0x0d) return true;
    i = head.indexOf('\n', i + 1);
  }
  i = head.indexOf('\r');
  while (i !== -1) {
    if (head.charCodeAt(i + 1) !== 0x0a) return true;
    i = head.indexOf('\r', i + 1);
  }
  return false;
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

/** How a message's body is framed, from its Content-Length and Transfer-Encoding lines. */
export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'invalid' };

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
  if (!/^\d{1,15}$/.test(length)) return { kind: 'invalid' };
  return { kind: 'length', length: Number(length) };
}
