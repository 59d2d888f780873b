/**
 * The header lines of a head, read on its bytes in one pass with the grammar of RFC 9112 §5 as
 * llhttp's strict mode reads it (and as a string parser of it in the tests, reference-fields.ts,
 * reads it): every line ends in CRLF, a name is one or more token characters followed at once by a
 * colon, a value holds visible characters, obs-text, spaces and tabs only (so a bare CR or LF, or
 * a line that starts with whitespace, is refused). Each line is kept as positions in the bytes,
 * with the kind of field the edge acts on; no string is made unless asked for (fieldStrings).
 * Making a string of every name and value of every head cost more than the rest of an exchange's
 * JavaScript together.
 */
import type { Framing } from './fields.ts';

/** Fields the edge acts on, by name; Other is every other name. */
export enum LineKind {
  Other = 0,
  /** Hop-by-hop (RFC 9110 §7.6.1) or otherwise never passed on as sent, other than those below. */
  Dropped = 1,
  Connection = 2,
  TransferEncoding = 3,
  ContentLength = 4,
  Date = 5,
  Host = 6,
  Upgrade = 7,
  Expect = 8,
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

/** Field names (lowercase) with their kinds, by name length. */
export type KindTable = [string, LineKind][][];

/** A KindTable of `entries`; a name listed twice has the kind it is first listed with. */
export function kindTable(entries: Iterable<[string, LineKind]>): KindTable {
  const table: KindTable = [];
  for (const entry of entries) (table[entry[0].length] ??= []).push(entry);
  return table;
}

/** tchar of RFC 9110 §5.6.2 and field-value characters (VCHAR, obs-text, SP, HTAB), by byte. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;
export const VALUE = new Uint8Array(256);
for (let c = 0x20; c <= 0xff; c++) VALUE[c] = c === 0x7f ? 0 : 1;
VALUE[0x09] = 1;

/**
 * The header lines in `buf[from, to)`, where `to` is the index of the CRLF ending the head (each
 * line, the last included, ends in CRLF), their kinds from `kinds`; null when one breaks the grammar.
 */
export function scanLines(buf: Buffer, from: number, to: number, kinds: KindTable): Lines | null {
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
    lines.kind.push(kindOf(buf, at, colon, kinds));
    lines.count++;
    at = i + 2;
  }
  lines.starts.push(to);
  return lines;
}

/** The kind of the field named `buf[from, to)`. */
function kindOf(buf: Buffer, from: number, to: number, kinds: KindTable): LineKind {
  const candidates = kinds[to - from];
  if (candidates === undefined) return LineKind.Other;
  for (const [name, kind] of candidates) if (sameLetters(buf, from, to, name)) return kind;
  return LineKind.Other;
}

/** Whether `buf[from, to)` is `lower` (lowercase letters and hyphens) whatever the case of its letters. */
export function sameLetters(buf: Uint8Array, from: number, to: number, lower: string): boolean {
  if (to - from !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((buf[from + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** The value of line `i` as a string. */
export function lineValue(buf: Buffer, lines: Lines, i: number): string {
  return buf.toString('latin1', lines.valueStart[i]!, lines.valueEnd[i]!);
}

/** The fields as a raw list (names as sent, values without surrounding whitespace) and their names lowercased. */
export function fieldStrings(buf: Buffer, lines: Lines): { raw: string[]; names: string[] } {
  const raw: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < lines.count; i++) {
    const name = buf.toString('latin1', lines.starts[i]!, lines.colon[i]!);
    raw.push(name, lineValue(buf, lines, i));
    names.push(name.toLowerCase());
  }
  return { raw, names };
}

/** A message's body framing when it is valid. */
export type BodyFraming = Exclude<Framing, { kind: 'invalid' }>;

const NO_BODY: BodyFraming = Object.freeze({ kind: 'none' });
const CHUNKED: BodyFraming = Object.freeze({ kind: 'chunked' });

/**
 * The framing the fields announce (RFC 9112 §6), as the reference parser's framingOf reads it: chunked when
 * the last transfer coding is chunked and no other is; a single Content-Length of 1 to 15 digits;
 * null (malformed) for both at once, two Content-Length lines, or another last coding.
 */
export function framingOf(buf: Buffer, lines: Lines): BodyFraming | null {
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
      for (const t of lineValue(buf, lines, i).split(',')) codings.push(t.trim().toLowerCase());
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

/** The lowercased comma-separated tokens of the lines of `kind` (a lone `keep-alive` or `close` makes no string). */
export function tokensOfKind(buf: Buffer, lines: Lines, kind: LineKind): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.count; i++) {
    if (lines.kind[i] !== kind) continue;
    const from = lines.valueStart[i]!;
    const to = lines.valueEnd[i]!;
    if (sameLetters(buf, from, to, 'keep-alive')) out.push('keep-alive');
    else if (sameLetters(buf, from, to, 'close')) out.push('close');
    else {
      for (const t of lineValue(buf, lines, i).split(',')) {
        const token = t.trim().toLowerCase();
        if (token !== '') out.push(token);
      }
    }
  }
  return out;
}
