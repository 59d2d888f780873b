/**
 * The status line and header lines of an upstream's response head, read on its bytes in one pass
 * with the grammar fields.ts applies to strings (RFC 9112 §4, §5; llhttp's strict mode): every
 * line ends in CRLF, a name is one or more token characters followed at once by a colon, a value
 * holds visible characters, obs-text, spaces and tabs only (so a bare CR or LF, or a line that
 * starts with whitespace, is refused). Each line is kept as positions in the bytes, with the kind
 * of field the edge acts on, and no string is made.
 */

/** Fields the edge reads or drops on the way to the visitor, by name; Other is every other name. */
export enum LineKind {
  Other = 0,
  /** Hop-by-hop (RFC 9110 §7.6.1) other than the three below: never passed to the visitor. */
  HopByHop = 1,
  Connection = 2,
  TransferEncoding = 3,
  KeepAlive = 4,
  ContentLength = 5,
  Date = 6,
}

/** Where each header line of a head lies in its bytes; index i is line i. */
export interface Lines {
  count: number;
  /** Where each line starts, then where the last line's CRLF ends. */
  starts: number[];
  /** Where its name's colon is. */
  colon: number[];
  /** Where its value starts and ends, without the whitespace around it. */
  valueStart: number[];
  valueEnd: number[];
  kind: LineKind[];
}

/** tchar of RFC 9110 §5.6.2 and field-value characters (VCHAR, obs-text, SP, HTAB), by byte. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;
const VALUE = new Uint8Array(256);
for (let c = 0x20; c <= 0xff; c++) VALUE[c] = c === 0x7f ? 0 : 1;
VALUE[0x09] = 1;

/** The names of the fields of each kind but Other, lowercase. */
const KINDS: [string, LineKind][] = [
  ['connection', LineKind.Connection],
  ['transfer-encoding', LineKind.TransferEncoding],
  ['keep-alive', LineKind.KeepAlive],
  ['content-length', LineKind.ContentLength],
  ['date', LineKind.Date],
  ['proxy-connection', LineKind.HopByHop],
  ['te', LineKind.HopByHop],
  ['trailer', LineKind.HopByHop],
  ['upgrade', LineKind.HopByHop],
  ['proxy-authorization', LineKind.HopByHop],
  ['proxy-authenticate', LineKind.HopByHop],
];

/** KINDS by name length. */
const BY_LENGTH: [string, LineKind][][] = [];
for (const entry of KINDS) (BY_LENGTH[entry[0].length] ??= []).push(entry);

/**
 * The status line `buf[0, …)` of a head ending at `end`: `HTTP/1.0` or `HTTP/1.1`, a space, three
 * digits (the first not 0) and, after a space, a reason of value characters; or null.
 */
export function statusOf(
  buf: Buffer,
  end: number,
): { minor: 0 | 1; status: number; reason: string; lineEnd: number } | null {
  // The head's own CRLF CRLF ends the status line at the latest.
  let lineEnd = 0;
  while (lineEnd < end && (buf[lineEnd] !== 0x0d || buf[lineEnd + 1] !== 0x0a)) lineEnd++;
  if (lineEnd >= end || lineEnd < 12 || !isHttp1(buf) || buf[8] !== 0x20) return null;
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
  const ok = lineEnd === 15 && buf[13] === 0x4f && buf[14] === 0x4b;
  const reason = ok ? 'OK' : buf.toString('latin1', 13, lineEnd);
  return { minor, status, reason, lineEnd };
}

/** Whether `buf` starts with `HTTP/1.`. */
function isHttp1(buf: Buffer): boolean {
  return (
    buf[0] === 0x48 && buf[1] === 0x54 && buf[2] === 0x54 && buf[3] === 0x50 && buf[4] === 0x2f && buf[5] === 0x31 && buf[6] === 0x2e
  );
}

/**
 * The header lines in `buf[from, to)`, where `to` is the index of the CRLF ending the head (each
 * line, the last included, ends in CRLF); null when one breaks the grammar.
 */
export function scanLines(buf: Buffer, from: number, to: number): Lines | null {
  const lines: Lines = { count: 0, starts: [], colon: [], valueStart: [], valueEnd: [], kind: [] };
  let at = from;
  while (at < to) {
    let i = at;
    while (TOKEN[buf[i]!] === 1) i++;
    if (i === at || buf[i] !== 0x3a) return null;
    const colon = i;
    let first = -1;
    let last = -1;
    for (i = colon + 1; VALUE[buf[i]!] === 1; i++) {
      const c = buf[i]!;
      if (c !== 0x20 && c !== 0x09) {
        if (first === -1) first = i;
        last = i;
      }
    }
    if (buf[i] !== 0x0d || buf[i + 1] !== 0x0a) return null;
    lines.starts.push(at);
    lines.colon.push(colon);
    lines.valueStart.push(first === -1 ? colon + 1 : first);
    lines.valueEnd.push(first === -1 ? colon + 1 : last + 1);
    lines.kind.push(kindOf(buf, at, colon));
    lines.count++;
    at = i + 2;
  }
  lines.starts.push(to);
  return lines;
}

/** The kind of the field named `buf[from, to)`. */
function kindOf(buf: Buffer, from: number, to: number): LineKind {
  const candidates = BY_LENGTH[to - from];
  if (candidates === undefined) return LineKind.Other;
  for (const [name, kind] of candidates) {
    let same = true;
    for (let i = 0; i < name.length && same; i++) same = (buf[from + i]! | 0x20) === name.charCodeAt(i);
    if (same) return kind;
  }
  return LineKind.Other;
}
